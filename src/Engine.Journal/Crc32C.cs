using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Journal;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every journal record, commit slot and snapshot.
/// Uses <see cref="BitOperations.Crc32C(uint, ulong)"/>, which the JIT turns into the SSE4.2 / ARMv8 CRC
/// instruction (software fallback elsewhere): about 8 bytes per instruction.
/// </summary>
public static class Crc32C
{
    /// <summary>Initial running state; pass it to <see cref="Update"/>, then <see cref="Finish"/>.</summary>
    public const uint InitialState = 0xFFFF_FFFFu;

    /// <summary>CRC-32C of <paramref name="data"/> (standard: init ~0, final xor ~0; "123456789" gives 0xE3069283).</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(InitialState, data));

    /// <summary>Folds <paramref name="data"/> into a running state, so large inputs can be checksummed in chunks.</summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        ref byte start = ref MemoryMarshal.GetReference(data);
        int length = data.Length;
        int offset = 0;
        for (; offset + sizeof(ulong) <= length; offset += sizeof(ulong))
            state = BitOperations.Crc32C(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, offset)));
        if (offset + sizeof(uint) <= length)
        {
            state = BitOperations.Crc32C(state, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, offset)));
            offset += sizeof(uint);
        }
        for (; offset < length; offset++)
            state = BitOperations.Crc32C(state, Unsafe.Add(ref start, offset));
        return state;
    }

    /// <summary>Turns a running state into the checksum value.</summary>
    public static uint Finish(uint state) => ~state;
}
