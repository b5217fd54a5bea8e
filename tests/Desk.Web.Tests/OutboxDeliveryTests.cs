using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Desk.Domain;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Desk.Web.Tests;

/// <summary>A local webhook receiver: records every request; answers 503 to the first <see cref="FailFirst"/>.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Received(string Body, string? Signature, string? Timestamp, string? Delivery);

    private readonly WebApplication _app;
    public ConcurrentQueue<Received> Requests { get; } = new();
    public int FailFirst { get; set; }
    public string Url { get; }

    private WebhookReceiver(WebApplication app, string url) => (_app, Url) = (app, url);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        WebhookReceiver? self = null;
        app.MapPost("/hook", async (HttpContext ctx) =>
        {
            string body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
            self!.Requests.Enqueue(new Received(body, ctx.Request.Headers[OutboxService.SignatureHeader], ctx.Request.Headers[OutboxService.TimestampHeader], ctx.Request.Headers[OutboxService.DeliveryHeader]));
            return self.Requests.Count <= self.FailFirst ? Results.StatusCode(503) : Results.Ok();
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return self = new WebhookReceiver(app, address + "/hook");
    }

    public async ValueTask DisposeAsync() { await _app.StopAsync(); await _app.DisposeAsync(); }
}

/// <summary>A local SMTP sink: speaks just enough SMTP to accept mail and keeps each message's envelope and data.</summary>
public sealed class SmtpSink : IDisposable
{
    public sealed record Mail(string From, List<string> To, string Data);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    public ConcurrentQueue<Mail> Messages { get; } = new();
    public int Port { get; }

    public SmtpSink()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = Task.Run(AcceptAsync);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); } catch { return; }
            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 sink ESMTP");
        string from = "";
        var to = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            string verb = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
            switch (verb)
            {
                case "EHLO": await writer.WriteLineAsync("250-sink"); await writer.WriteLineAsync("250 8BITMIME"); break;
                case "HELO": await writer.WriteLineAsync("250 sink"); break;
                case "MAIL": from = line[10..].Trim(); await writer.WriteLineAsync("250 OK"); break;
                case "RCPT": to.Add(line[8..].Trim()); await writer.WriteLineAsync("250 OK"); break;
                case "DATA":
                    await writer.WriteLineAsync("354 end with .");
                    var data = new StringBuilder();
                    while (await reader.ReadLineAsync() is { } d && d != ".") data.Append(d.StartsWith("..") ? d[1..] : d).Append("\r\n");
                    Messages.Enqueue(new Mail(from, [.. to], data.ToString()));
                    await writer.WriteLineAsync("250 queued");
                    to = [];
                    break;
                case "QUIT": await writer.WriteLineAsync("221 bye"); return;
                default: await writer.WriteLineAsync("250 OK"); break;
            }
        }
    }

    public void Dispose() { _stop.Cancel(); _listener.Stop(); }
}

public class OutboxDeliveryTests
{
    private const string Secret = "test-webhook-secret";

    private static async Task<DeskHost> StartAsync(params string[] extra) =>
        await DeskHost.StartAsync(await SharedEngine.AddressAsync(), null,
            [$"--Desk:Outbox:WebhookSecret={Secret}", "--Desk:Outbox:BackoffMs=1", "--Desk:Outbox:BackoffMaxMs=4", .. extra]);

    private static async Task<(bool Added, string? Error)> EnqueueAsync(DeskHost desk, OutboxMessage m)
    {
        using var scope = desk.Services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<OutboxService>().Enqueue(m);
        await scope.ServiceProvider.GetRequiredService<DeskDb>().SaveChangesAsync();
        return result;
    }

    private static async Task DeliverUntilAsync(DeskHost desk, Func<DeskDb, bool> done, string what)
    {
        await Wait.UntilAsync(async () =>
        {
            using var scope = desk.Services.CreateScope();
            await scope.ServiceProvider.GetRequiredService<OutboxService>().DeliverDueAsync();
            return desk.With(done);
        }, what);
    }

    [Fact]
    public async Task A_webhook_is_signed_retried_with_backoff_until_accepted_and_every_attempt_is_logged()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.FailFirst = 2;
        await using var desk = await StartAsync();
        string trigger = "test:webhook:" + Guid.NewGuid();
        string body = """{"event":"reminder","customer":"上海恒通贸易有限公司","amount":"¥12,000.00"}""";
        Assert.Equal((true, null), await EnqueueAsync(desk, new OutboxMessage { TriggerKey = trigger, Channel = OutboxChannel.Webhook, Target = receiver.Url, Subject = "reminder", Body = body }));

        await DeliverUntilAsync(desk, db => db.Outbox.Single(m => m.TriggerKey == trigger).Status == OutboxStatus.Sent, "the webhook to be accepted");

        var (message, attempts) = desk.With(db =>
        {
            var m = db.Outbox.Single(x => x.TriggerKey == trigger);
            return (m, db.OutboxAttempts.Where(a => a.MessageId == m.Id).OrderBy(a => a.Attempt).ToList());
        });
        Assert.Equal(3, message.Attempts);
        Assert.Equal([(1, false, "HTTP 503"), (2, false, "HTTP 503"), (3, true, "HTTP 200")], attempts.Select(a => (a.Attempt, a.Ok, a.Detail)));
        Assert.Equal(3, receiver.Requests.Count);
        foreach (var r in receiver.Requests)
        {
            Assert.Equal(body, r.Body); // CJK and ¥ as sent
            Assert.Equal(OutboxRules.Signature(Secret, long.Parse(r.Timestamp!), r.Body), r.Signature);
            Assert.Equal($"outbox-{message.Id}", r.Delivery); // the same delivery id on every attempt
        }

        using var admin = await DeskClient.SignedInAsync(desk.Address, await AdminAsync(desk));
        string page = await admin.Http.GetStringAsync("/outbox");
        Assert.Contains(trigger, page);
        Assert.Contains("#2", page);
        Assert.Contains("HTTP 503", page);
    }

    private static async Task<string> AdminAsync(DeskHost desk)
    {
        string name = "mgr" + Guid.NewGuid().ToString("N")[..6];
        await desk.AddUserAsync(name, "manager");
        return name;
    }

    [Fact]
    public async Task One_trigger_is_one_message_however_often_it_is_enqueued()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var desk = await StartAsync();
        string trigger = "test:once:" + Guid.NewGuid();
        var m = () => new OutboxMessage { TriggerKey = trigger, Channel = OutboxChannel.Webhook, Target = receiver.Url, Body = "{}" };
        Assert.True((await EnqueueAsync(desk, m())).Added);
        Assert.False((await EnqueueAsync(desk, m())).Added); // e.g. the rule ran again after a restart
        await DeliverUntilAsync(desk, db => db.Outbox.Single(x => x.TriggerKey == trigger).Status == OutboxStatus.Sent, "the webhook to be sent");
        Assert.False((await EnqueueAsync(desk, m())).Added); // also once it has been sent
        using (var scope = desk.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<OutboxService>().DeliverDueAsync();
            // A twin written past the service (a concurrent writer) is refused by the unique trigger key.
            var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
            db.Outbox.Add(m());
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }
        Assert.Single(receiver.Requests);
        Assert.Equal(1, desk.With(db => db.Outbox.Count(x => x.TriggerKey == trigger)));
    }

    [Fact]
    public async Task A_bad_message_is_refused_naming_the_field_and_nothing_is_stored()
    {
        await using var desk = await StartAsync();
        string trigger = "test:bad:" + Guid.NewGuid();
        var (added, error) = await EnqueueAsync(desk, new OutboxMessage { TriggerKey = trigger, Channel = OutboxChannel.Email, Target = "nobody", Body = "x" });
        Assert.False(added);
        Assert.StartsWith("target: ", error);
        Assert.Equal(0, desk.With(db => db.Outbox.Count(x => x.TriggerKey == trigger)));
    }

    [Fact]
    public async Task An_email_from_a_Chinese_template_reaches_the_SMTP_server_with_a_stable_message_id()
    {
        using var sink = new SmtpSink();
        await using var desk = await StartAsync("--Desk:Outbox:SmtpHost=127.0.0.1", $"--Desk:Outbox:SmtpPort={sink.Port}", "--Desk:Outbox:SmtpFrom=desk@example.cn");
        var template = MessageTemplates.Find(MessageTemplates.Default(), "reminder-before-due", "zh-CN")!;
        var values = new Dictionary<string, string> { ["customer"] = "成都嘉禾物流有限公司", ["amount"] = "¥3,000.00", ["dpd"] = "0", ["due_date"] = "2026-12-10", ["account"] = "c-9" };
        string trigger = "reminder:c-9:2026-12-10:before-3:" + Guid.NewGuid();
        Assert.True((await EnqueueAsync(desk, new OutboxMessage
        {
            TriggerKey = trigger, Channel = OutboxChannel.Email, Target = "ap@jiahe.example.cn",
            Subject = MessageTemplates.Render(template.Subject, values).Text!, Body = MessageTemplates.Render(template.Body, values).Text!,
        })).Added);
        await DeliverUntilAsync(desk, db => db.Outbox.Single(x => x.TriggerKey == trigger).Status == OutboxStatus.Sent, "the e-mail to be sent");

        var mail = Assert.Single(sink.Messages);
        Assert.Equal("<desk@example.cn>", mail.From);
        Assert.Equal(["<ap@jiahe.example.cn>"], mail.To);
        long id = desk.With(db => db.Outbox.Single(x => x.TriggerKey == trigger).Id);
        Assert.Contains($"Message-ID: <outbox-{id}@credit-desk>", mail.Data);
        Assert.Contains("尊敬的成都嘉禾物流有限公司：您的账户 c-9 有 ¥3,000.00 将于 2026-12-10 到期，请按时还款。", Decode(mail.Data));
    }

    [Fact]
    public async Task An_unreachable_SMTP_server_is_retried_then_the_message_is_Failed_with_each_error_logged()
    {
        int closedPort;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); closedPort = ((IPEndPoint)l.LocalEndpoint).Port; }
        await using var desk = await StartAsync("--Desk:Outbox:SmtpHost=127.0.0.1", $"--Desk:Outbox:SmtpPort={closedPort}", "--Desk:Outbox:AttemptsMax=2");
        string trigger = "test:smtp-down:" + Guid.NewGuid();
        Assert.True((await EnqueueAsync(desk, new OutboxMessage { TriggerKey = trigger, Channel = OutboxChannel.Email, Target = "a@b.cn", Subject = "s", Body = "b" })).Added);
        await DeliverUntilAsync(desk, db => db.Outbox.Single(x => x.TriggerKey == trigger).Status == OutboxStatus.Failed, "the message to be Failed");
        var (m, attempts) = desk.With(db => { var x = db.Outbox.Single(o => o.TriggerKey == trigger); return (x, db.OutboxAttempts.Where(a => a.MessageId == x.Id).ToList()); });
        Assert.Equal(2, m.Attempts);
        Assert.Equal(2, attempts.Count);
        Assert.All(attempts, a => Assert.False(a.Ok));
        Assert.NotNull(m.LastError);
        Assert.Null(m.SentAt);
    }

    /// <summary>The text of a single-part mail: the body after the headers, base64 or quoted-printable decoded.</summary>
    private static string Decode(string data)
    {
        int split = data.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string headers = data[..split], body = data[(split + 4)..];
        if (headers.Contains("Content-Transfer-Encoding: base64", StringComparison.OrdinalIgnoreCase))
            return Encoding.UTF8.GetString(Convert.FromBase64String(body.Replace("\r\n", "")));
        if (headers.Contains("quoted-printable", StringComparison.OrdinalIgnoreCase))
        {
            var bytes = new List<byte>();
            string joined = body.Replace("=\r\n", "");
            for (int i = 0; i < joined.Length; i++)
            {
                if (joined[i] == '=' && i + 2 < joined.Length) { bytes.Add(Convert.ToByte(joined.Substring(i + 1, 2), 16)); i += 2; }
                else bytes.Add((byte)joined[i]);
            }
            return Encoding.UTF8.GetString(bytes.ToArray());
        }
        return body;
    }
}

public class ReminderOutboxTests
{
    [Fact]
    public async Task A_due_reminder_is_one_outbox_message_per_account_due_date_and_rule_however_often_the_day_runs()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var desk = await DeskHost.StartAsync(await SharedEngine.AddressAsync(), null, $"--Desk:Outbox:CollectionsWebhookUrl={receiver.Url}");
        long customerId;
        using (var scope = desk.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeskDb>();
            var now = DateTimeOffset.UtcNow;
            var c = new Customer { Uscc = TestData.NewUscc(), LegalName = "武汉博远建设集团有限公司", ContactEmail = "ar@boyuan.example.cn", CreatedAt = now, UpdatedAt = now };
            db.Customers.Add(c);
            // One more rule, to the chat-robot webhook, three days after the due date as well.
            var policy = await Desk.Web.Services.Policies.CollectionsAsync(db);
            policy.Rules.Add(new ReminderRule { Name = "after-3-robot", When = ReminderWhen.AfterDue, Days = 3, TemplateKey = "reminder-overdue", Channel = OutboxChannel.Webhook });
            Assert.Empty(await Desk.Web.Services.Policies.SaveCollectionsAsync(db, System.Text.Json.JsonSerializer.Serialize(policy, Desk.Web.Services.Policies.Json), "test", now));
            customerId = c.Id;
        }
        string account = "c-remind-" + Guid.NewGuid().ToString("N")[..8];
        var due = new DueItem(account, "ignored", new DateOnly(2026, 12, 10), 12_000_00, "CNY", Paid: false);
        var today = new DateOnly(2026, 12, 13);
        for (int run = 0; run < 3; run++) // the job's rounds, a restart, a replay
        {
            using var scope = desk.Services.CreateScope();
            var result = await scope.ServiceProvider.GetRequiredService<ReminderService>().EnqueueAsync([(customerId, due)], today);
            Assert.Equal(run == 0 ? (2, 0) : (0, 2), (result.Added, result.AlreadyThere));
        }
        var messages = desk.With(db => db.Outbox.Where(m => m.TriggerKey.StartsWith($"reminder:{account}:")).OrderBy(m => m.TriggerKey).ToList());
        Assert.Equal([$"reminder:{account}:2026-12-10:after-3", $"reminder:{account}:2026-12-10:after-3-robot"], messages.Select(m => m.TriggerKey));
        Assert.Equal((OutboxChannel.Email, "ar@boyuan.example.cn"), (messages[0].Channel, messages[0].Target));
        Assert.Equal("尊敬的武汉博远建设集团有限公司：您的账户 " + account + " 有 ¥12,000.00 已逾期 3 天（到期日 2026-12-10），请尽快还款。", messages[0].Body);
        Assert.Equal((OutboxChannel.Webhook, receiver.Url), (messages[1].Channel, messages[1].Target));
        Assert.Contains("\"dpd\":3", messages[1].Body);
        Assert.Contains("武汉博远建设集团有限公司", messages[1].Body);
    }
}
