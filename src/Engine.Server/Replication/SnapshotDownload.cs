using Credit.V1;
using Engine.Domain;
using Engine.Journal;
using Grpc.Core;
using Grpc.Net.Client;

namespace Engine.Server.Replication;

/// <summary>
/// Fetches the upstream's newest read-model snapshot (ReplicationService.GetSnapshot) into a temporary file, verifies
/// its announced length and CRC-32C, and reads the ledger from it. The snapshot's history section indexes the
/// upstream's log, not this replica's, so it is not used.
/// </summary>
internal static class SnapshotDownload
{
    private const int FileBufferBytes = 1 << 20;

    /// <returns>The upstream's ledger at the snapshot's sequence, invariants checked, and the snapshot's size in bytes.</returns>
    public static async Task<(Ledger Ledger, long TotalBytes)> FetchAsync(GrpcChannel channel, string temporaryPath, LedgerOptions ledgerOptions, CancellationToken ct)
    {
        var replication = new ReplicationService.ReplicationServiceClient(channel);
        long sequence = -1, totalBytes = -1, received = 0;
        uint crc = Crc32C.InitialState, expectedCrc = 0;
        bool complete = false;
        await using (var file = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None, FileBufferBytes))
        {
            using AsyncServerStreamingCall<SnapshotChunk> call = replication.GetSnapshot(new GetSnapshotRequest(), cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                SnapshotChunk chunk = call.ResponseStream.Current;
                if (sequence < 0) (sequence, totalBytes) = (chunk.Sequence, chunk.TotalBytes);
                crc = Crc32C.Update(crc, chunk.Data.Span);
                received += chunk.Data.Length;
                if (received > totalBytes) throw new InvalidDataException($"upstream snapshot is longer than the {totalBytes} bytes it announced");
                await file.WriteAsync(chunk.Data.Memory, ct).ConfigureAwait(false);
                if (chunk.Last)
                {
                    expectedCrc = chunk.BodyCrc32C;
                    complete = true;
                    break;
                }
            }
        }
        if (!complete || received != totalBytes) throw new InvalidDataException($"upstream snapshot ended after {received} of {totalBytes} bytes");
        if (Crc32C.Finish(crc) != expectedCrc) throw new InvalidDataException("upstream snapshot fails its checksum");

        Ledger ledger;
        await using (var file = new FileStream(temporaryPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileBufferBytes))
            ledger = Ledger.ReadSnapshot(file, ledgerOptions);
        if (ledger.LastSequence != sequence) throw new InvalidDataException($"upstream snapshot says sequence {sequence} but holds {ledger.LastSequence}");
        ledger.CheckInvariants();
        return (ledger, totalBytes);
    }
}
