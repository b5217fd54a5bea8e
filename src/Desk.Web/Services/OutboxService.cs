using System.Diagnostics;
using System.Net.Mail;
using System.Text;
using Desk.Domain;
using Desk.Web.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web.Services;

/// <summary>
/// The outbox: <see cref="Enqueue"/> adds a message in the caller's unit of work (so it commits with what caused it,
/// or not at all), keyed by its trigger; <see cref="DeliverDueAsync"/> sends due messages, logs every attempt and
/// reschedules failures with doubling backoff. A trigger already in the outbox is not added again.
/// </summary>
public sealed class OutboxService(DeskDb db, TimeProvider clock, IOptions<DeskOptions> options, IHttpClientFactory http, ILogger<OutboxService> log)
{
    public const string SignatureHeader = "X-Desk-Signature";
    public const string TimestampHeader = "X-Desk-Timestamp";
    public const string DeliveryHeader = "X-Desk-Delivery";

    private OutboxOptions O => options.Value.Outbox;

    /// <summary>
    /// Adds the message unless its trigger is already in the outbox (stored or added in this unit of work); returns the
    /// error naming the field for a bad message, nothing added. The unique index on the trigger key refuses a concurrent twin.
    /// </summary>
    public async Task<(bool Added, string? Error)> Enqueue(OutboxMessage m, CancellationToken ct = default)
    {
        if (OutboxRules.Validate(m) is { } error) return (false, error);
        if (db.Outbox.Local.Any(x => x.TriggerKey == m.TriggerKey) || await db.Outbox.AnyAsync(x => x.TriggerKey == m.TriggerKey, ct)) return (false, null);
        var now = clock.GetUtcNow();
        m.Status = OutboxStatus.Pending;
        m.CreatedAt = now;
        m.NextAttemptAt = now;
        m.Attempts = 0;
        db.Outbox.Add(m);
        return (true, null);
    }

    /// <summary>Sends every due pending message once (in id order, at most <paramref name="max"/>); returns how many were tried.</summary>
    public async Task<int> DeliverDueAsync(int max = 100, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var due = await db.Outbox.Where(m => m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now).OrderBy(m => m.Id).Take(max).ToListAsync(ct);
        foreach (var m in due)
        {
            // Claim it first (a conditional update): another deliverer (a second desk, or the job beside a caller) that
            // read the same row finds it no longer due and skips it. A crash after the claim retries after the lease.
            var lease = now + TimeSpan.FromMilliseconds(O.TimeoutMs) + TimeSpan.FromSeconds(30);
            int attempts = m.Attempts;
            int claimed = await db.Outbox.Where(x => x.Id == m.Id && x.Status == OutboxStatus.Pending && x.Attempts == attempts && x.NextAttemptAt <= now)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.NextAttemptAt, lease), ct);
            if (claimed == 0) continue;
            var started = Stopwatch.GetTimestamp();
            var (ok, detail) = await SendAsync(m, ct);
            var at = clock.GetUtcNow();
            m.Attempts++;
            db.OutboxAttempts.Add(new OutboxAttempt { MessageId = m.Id, Attempt = m.Attempts, At = at, Ok = ok, Detail = Cut(detail), DurationMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds });
            if (ok) (m.Status, m.SentAt, m.LastError) = (OutboxStatus.Sent, at, null);
            else
            {
                m.LastError = Cut(detail);
                if (m.Attempts >= O.AttemptsMax) m.Status = OutboxStatus.Failed;
                else m.NextAttemptAt = at + OutboxRules.Backoff(m.Attempts, TimeSpan.FromMilliseconds(O.BackoffMs), TimeSpan.FromMilliseconds(O.BackoffMaxMs));
                log.LogWarning("outbox message {Id} ({Trigger}) attempt {Attempt} failed: {Detail}", m.Id, m.TriggerKey, m.Attempts, detail);
            }
            // Each attempt is committed on its own: a crash loses at most the record of the attempt in flight.
            await db.SaveChangesAsync(ct);
        }
        return due.Count;
    }

    private async Task<(bool Ok, string Detail)> SendAsync(OutboxMessage m, CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(O.TimeoutMs);
            return m.Channel switch
            {
                OutboxChannel.Webhook => await WebhookAsync(m, timeout.Token),
                OutboxChannel.Email => await EmailAsync(m, timeout.Token),
                _ => (false, $"channel: {m.Channel} is not supported"),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return (false, $"timed out after {O.TimeoutMs} ms"); }
        catch (Exception e) when (e is HttpRequestException or SmtpException or IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            return (false, e.GetType().Name + ": " + e.Message);
        }
    }

    private async Task<(bool, string)> WebhookAsync(OutboxMessage m, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(O.WebhookSecret)) return (false, "Desk:Outbox:WebhookSecret is not set; webhooks are not sent unsigned");
        long ts = clock.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, m.Target) { Content = new StringContent(m.Body, Encoding.UTF8, "application/json") };
        request.Headers.Add(TimestampHeader, ts.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(SignatureHeader, OutboxRules.Signature(O.WebhookSecret, ts, m.Body));
        // The same id on every attempt of a message: a receiver that saw a delivery whose answer was lost can drop the repeat.
        request.Headers.Add(DeliveryHeader, DeliveryId(m));
        using var response = await http.CreateClient("outbox").SendAsync(request, ct);
        return (response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}");
    }

    private async Task<(bool, string)> EmailAsync(OutboxMessage m, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(O.SmtpHost)) return (false, "Desk:Outbox:SmtpHost is not set");
        using var smtp = new SmtpClient(O.SmtpHost, O.SmtpPort) { EnableSsl = O.SmtpSsl, DeliveryMethod = SmtpDeliveryMethod.Network };
        if (O.SmtpUser is not null) smtp.Credentials = new System.Net.NetworkCredential(O.SmtpUser, O.SmtpPassword);
        using var mail = new MailMessage(O.SmtpFrom, m.Target, m.Subject, m.Body) { SubjectEncoding = Encoding.UTF8, BodyEncoding = Encoding.UTF8 };
        mail.Headers.Add("Message-ID", $"<{DeliveryId(m)}@credit-desk>");
        await smtp.SendMailAsync(mail, ct);
        return (true, "250 accepted");
    }

    public static string DeliveryId(OutboxMessage m) => $"outbox-{m.Id}";

    private static string Cut(string s) => s.Length <= 1000 ? s : s[..1000];
}
