using Credit.V1;
using Engine.Core;
using Engine.Journal;
using Engine.Server.Hosting;
using Engine.ReadModel;
using Engine.Server.Replication;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Engine.Server.Grpc;

/// <summary>
/// credit.v1.ReplicationService: this server's role and read-model position, its subscribers, and its read-model
/// snapshot for replicas rebuilding after they fell behind the log's retention.
/// </summary>
public sealed class ReplicationGrpcService(LedgerReadModel readModel, SubscriberRegistry registry, ReadModelFeed feed,
    IOptions<ServerRoleOptions> role, IServiceProvider services, ILogger<ReplicationGrpcService> logger) : ReplicationService.ReplicationServiceBase
{
    private const int ChunkBytes = 1 << 20;
    private static readonly SemaphoreSlim OneSnapshotAtATime = new(1, 1);

    public override async Task<ReplicationStatus> GetStatus(GetReplicationStatusRequest request, ServerCallContext context)
    {
        IUpstreamStatus? follower = feed.Upstream;
        bool upstreamCurrent = follower?.Connected ?? true;
        long applied = readModel.AppliedSequence;
        long head = readModel.HeadSequence;
        var status = new ReplicationStatus
        {
            Role = role.Value.IsReplica ? ServerRole.ReadReplica : ServerRole.Leader,
            AppliedSequence = applied,
            HeadSequence = head,
            LagEvents = Math.Max(0, head - applied),
            LagMs = readModel.LagMs(upstreamCurrent),
            AppliedTimestampUnixMs = readModel.AppliedTimestampUnixMs,
            LogEpoch = feed.LogEpoch,
        };
        if (follower is not null)
        {
            status.LeaderUrl = follower.LeaderUrl;
            status.LeaderConnected = follower.Connected;
            status.LastError = follower.LastError;
            status.Reconnects = follower.Reconnects;
            status.SnapshotRebuilds = follower.SnapshotRebuilds;
            status.RecoveredSequence = follower.RecoveredSequence;
        }
        foreach (SubscriberRegistry.Subscriber subscriber in registry.All)
        {
            long sent = subscriber.SentSequence;
            status.Subscribers.Add(new SubscriberStatus
            {
                Name = subscriber.Name,
                Peer = subscriber.Peer,
                Format = subscriber.Format.ToString(),
                SentSequence = sent,
                LagEvents = Math.Max(0, head - sent),
                ConnectedAtUnixMs = subscriber.ConnectedAtUnixMs,
            });
        }
        if (!role.Value.IsReplica) AddRetention(status, head);
        if (!role.Value.IsReplica && services.GetRequiredService<EngineHost>().IdempotencyWindow is { } window) status.Idempotency = IdempotencyStatusOf(window);
        if (request.IncludeDigest)
        {
            // Off the read lock and one at a time (LedgerReadModel.ComputeDigestAsync): other queries are not held up.
            (long sequence, string digest) = await readModel.ComputeDigestAsync(context.CancellationToken).ConfigureAwait(false);
            status.AppliedSequence = sequence; // the digest's own position, in case the feeder moved on meanwhile
            status.StateDigest = digest;
        }
        return status;
    }

    /// <summary>The leader's journal retention and its durable consumer cursors (omitted while the engine is not running).</summary>
    private void AddRetention(ReplicationStatus status, long head)
    {
        CreditEngine engine;
        try
        {
            engine = services.GetRequiredService<EngineHost>().Engine; // leader only (the caller checks): a replica runs no engine host
        }
        catch (RpcException)
        {
            return; // starting, stopping or failed: there is no current retention state to report
        }
        Engine.Core.RetentionStatus retention = engine.RetentionStatus;
        status.Retention = new JournalRetentionStatus
        {
            Enabled = retention.Enabled,
            HeldBy = retention.HeldBy,
            OldestSequence = retention.OldestSequence,
            OldestTimestampUnixMs = retention.OldestTimestampUnixMs,
            RetainedBytes = retention.RetainedBytes,
            DiskBudgetBytes = retention.DiskBudgetBytes,
            EventAgeMinMs = retention.EventAgeMinMs,
            BudgetOverrodeFloor = retention.BudgetOverrodeFloor,
            BudgetOverrides = retention.BudgetOverrides,
            LastWarning = retention.LastWarning,
            EvaluatedAtUnixMs = retention.EvaluatedAtUnixMs,
        };
        Dictionary<string, CursorLag> lags = retention.CursorLags.ToDictionary(l => l.Name, StringComparer.Ordinal);
        foreach (ConsumerCursor cursor in engine.Cursors.All)
        {
            lags.TryGetValue(cursor.Name, out CursorLag? lag);
            status.Cursors.Add(new ConsumerCursorStatus
            {
                Name = cursor.Name,
                AckedSequence = cursor.AckedSequence,
                LagEvents = Math.Max(0, head - cursor.AckedSequence),
                LagMs = cursor.Dropped ? 0 : lag?.LagMs ?? 0,
                LagBytes = cursor.Dropped ? 0 : lag?.LagBytes ?? 0,
                Dropped = cursor.Dropped,
                DroppedReason = cursor.DroppedReason ?? "",
                DroppedAtUnixMs = cursor.DroppedAtUnixMs,
                RegisteredAtUnixMs = cursor.RegisteredAtUnixMs,
                AckedAtUnixMs = cursor.AckedAtUnixMs,
            });
        }
    }

    private static IdempotencyWindow IdempotencyStatusOf(Engine.Core.IdempotencyWindowStatus window) => new()
    {
        OldestTimestampUnixMs = window.OldestTimestampUnixMs,
        EffectiveWindowMs = window.EffectiveWindowMs,
        ConfiguredMinAgeMs = window.ConfiguredMinAgeMs,
        ConfiguredMinEntries = window.ConfiguredMinEntries,
        Entries = window.Entries,
        SpilledEntries = window.SpilledEntries,
        EvictedInsideWindow = window.EvictedInsideWindow,
        BelowConfigured = window.BelowConfigured,
        SpillEnabled = window.SpillEnabled,
    };

    public override async Task GetSnapshot(GetSnapshotRequest request, IServerStreamWriter<SnapshotChunk> responseStream, ServerCallContext context)
    {
        IReadModelFeeder source = feed.Feeder ?? throw GrpcErrors.NotRunning("the read model is starting up");
        if (readModel.Fault is not null) throw GrpcErrors.NotRunning("the read model stopped after an internal failure");
        SnapshotInfo info;
        Stream body;
        // One at a time: several replicas rebuilding at once share the snapshot instead of each writing one.
        await OneSnapshotAtATime.WaitAsync(context.CancellationToken).ConfigureAwait(false);
        try
        {
            // A snapshot is only useful if the log still holds everything after it; else write a fresh one.
            if (!source.Snapshots.TryOpenNewestValid(out info, out body) || info.JournalAddress < GrpcErrors.FromReadModel(() => readModel.Journal).BeginAddress)
            {
                body.Dispose();
                SnapshotInfo written = await Task.Run(source.WriteSnapshot, context.CancellationToken).ConfigureAwait(false);
                logger.LogInformation("replication: snapshot at sequence {Sequence} written for {Peer}", written.Sequence, context.Peer);
                if (!source.Snapshots.TryOpenNewestValid(out info, out body)) throw GrpcErrors.NotRunning("the snapshot just written does not verify; see the server log");
            }
        }
        finally
        {
            OneSnapshotAtATime.Release();
        }
        using (body)
        {
            byte[] buffer = new byte[ChunkBytes];
            uint crc = Crc32C.InitialState;
            long sent = 0;
            while (true)
            {
                int read = await body.ReadAtLeastAsync(buffer, ChunkBytes, throwOnEndOfStream: false, context.CancellationToken).ConfigureAwait(false);
                crc = Crc32C.Update(crc, buffer.AsSpan(0, read));
                sent += read;
                bool last = sent >= info.BodyLength || read < ChunkBytes;
                var chunk = new SnapshotChunk { Sequence = info.Sequence, TotalBytes = info.BodyLength, Data = ByteString.CopyFrom(buffer, 0, read), Last = last };
                if (last) chunk.BodyCrc32C = Crc32C.Finish(crc);
                await responseStream.WriteAsync(chunk, context.CancellationToken).ConfigureAwait(false);
                if (last) break;
            }
        }
        logger.LogInformation("replication: snapshot at sequence {Sequence} ({Bytes} bytes) sent to {Peer}", info.Sequence, info.BodyLength, context.Peer);
    }
}
