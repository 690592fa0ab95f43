using System.Numerics;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The work items of a kernel over <c>[B, T, H]</c> tensors: one per (batch element, block of channels).
/// Each item walks every row of its batch element but reads only its block's contiguous slice of each
/// row, so items share no accumulator and the result does not depend on how many there are. Block
/// edges fall on multiples of the vector width, so every channel is computed by the same vector code.
/// </summary>
internal readonly record struct ChannelBlocks(int Batch, int Hidden, int Width, int PerBatch)
{
    // Narrower blocks would walk time over a few cache lines per row, which streams poorly.
    const int MinimumWidth = 128;

    /// <summary>Blocks for <paramref name="threads"/> threads, vectors of <paramref name="lanes"/> elements.</summary>
    public static ChannelBlocks For(long batch, long hidden, int lanes, int threads)
    {
        var wanted = (int)Math.Clamp((threads + batch - 1) / batch, 1, Math.Max(1, hidden / MinimumWidth));
        var width = (int)((hidden + wanted - 1) / wanted);
        width = (width + lanes - 1) / lanes * lanes;
        return new((int)batch, (int)hidden, width, (int)((hidden + width - 1) / width));
    }

    /// <summary>Blocks for vectors of <typeparamref name="T"/> and <see cref="CpuParallel.Degree"/> threads.</summary>
    public static ChannelBlocks For<T>(long batch, long hidden) => For(batch, hidden, Vector<T>.Count, CpuParallel.Degree);

    /// <summary>
    /// Blocks that depend on the shape alone, not on the thread count: for kernels that sum over channels
    /// within a block and then over blocks, so that the summation order, and the result, stays the same.
    /// </summary>
    public static ChannelBlocks Fixed<T>(long batch, long hidden) => For(batch, hidden, Vector<T>.Count, FixedThreads);

    // Two blocks per sequence at most: wider blocks stream better, and this machine has two cores.
    const int FixedThreads = 2;

    /// <summary>Number of work items.</summary>
    public int Count => Batch * PerBatch;

    /// <summary>Work item <paramref name="item"/>'s batch element and channel range [Start, End).</summary>
    public (int Batch, int Start, int End) this[int item]
    {
        get
        {
            var start = item % PerBatch * Width;
            return (item / PerBatch, start, Math.Min(Hidden, start + Width));
        }
    }
}
