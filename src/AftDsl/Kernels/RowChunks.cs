using TorchSharp;

namespace AftDsl.Kernels;

/// <summary>
/// How the fused T×T kernels cut the target rows: chunks small enough that a chunk's slice of the
/// exp-bias matrix stays near 16 MB on a CPU (where the row chunk is the largest tensor alive) or
/// 512 MB on an accelerator (where small products would leave it idle), and, causal, at least 8
/// chunks, so that the blocks right of the diagonal (the future) are skipped rather than multiplied
/// by zero: the work is then about (n + 1)/2n of the full product. On an accelerator a causal chunk keeps at
/// least <see cref="AcceleratorCausalRows"/> rows: there each chunk costs a dozen launches, which outweigh the
/// future columns they would skip at short lengths (T = 1024 makes 4 chunks, 5/8 of the full product).
/// </summary>
internal static class RowChunks
{
    const long CpuElements = 1L << 22;
    const long AcceleratorElements = 1L << 27;
    const long AcceleratorCausalRows = 256;
    const long Alignment = 64;

    public static IEnumerable<(long Start, long Length)> Of(long length, long batch, bool causal, DeviceType device)
    {
        var cpu = device == DeviceType.CPU;
        var size = (cpu ? CpuElements : AcceleratorElements) / Math.Max(1, batch * length);
        if (causal) size = Math.Min(size, Math.Max(length / 8, cpu ? 0 : AcceleratorCausalRows));
        size = Math.Max(Alignment, size / Alignment * Alignment);
        for (long start = 0; start < length; start += size)
            yield return (start, Math.Min(size, length - start));
    }
}
