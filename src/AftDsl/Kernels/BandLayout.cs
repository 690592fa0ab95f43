using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// The band |t − t'| &lt; s of AFT-local, cut into blocks: n blocks of b target rows, each facing a
/// window of <see cref="Span"/> source positions (b + 2(s − 1), or b + s − 1 when causal) that starts
/// s − 1 positions before the block. With b ≥ 2s a window is exactly one block of the left-padded
/// sequence plus the head of the next, so band products are two batched matrix products on views of
/// the sequence, with no window copies. Only the band is ever evaluated: memory is O(T·span), not O(T²).
/// </summary>
internal sealed class BandLayout
{
    public BandLayout(long length, long window, bool causal, Device device)
    {
        Length = length;
        Window = window;
        Block = Math.Max(64, (2 * window + 15) / 16 * 16);
        Blocks = (length + Block - 1) / Block;
        Span = Block + (causal ? 1 : 2) * (window - 1);
        var rows = arange(Block, device: device).unsqueeze(1);
        var sources = arange(Span, device: device).unsqueeze(0) - (window - 1);    // offset of t' from the block start
        var distance = sources - rows;                                               // t' − t
        Mask = distance.abs() < window;
        if (causal) Mask = Mask.logical_and(distance <= 0);
        var position = arange(Blocks, device: device).unsqueeze(1) * Block + sources;   // t' of each window column
        SourceOutside = (position < 0).logical_or(position >= length);
    }

    public long Length { get; }
    public long Window { get; }
    public long Block { get; }
    public long Blocks { get; }
    public long Span { get; }
    long Tail => Span - Block;                    // rows a window takes from the next block

    /// <summary><c>[b, span]</c>: true where the source lies in the target's band (and not in its future, causal).</summary>
    public Tensor Mask { get; }

    /// <summary><c>[n, span]</c>: true where a window column is padding, before the start or past the end.</summary>
    public Tensor SourceOutside { get; }

    /// <summary>Rows of <paramref name="x"/> <c>[B, T, C]</c> grouped by target block: <c>[B, n, b, C]</c>, zero-padded.</summary>
    public Tensor Blocked(Tensor x) =>
        Pad(x, 0, Blocks * Block - Length).view(x.shape[0], Blocks, Block, x.shape[2]);

    /// <summary>Flattens per-block rows <c>[B, n, b, C]</c> back to <c>[B, T, C]</c>.</summary>
    public Tensor Unblocked(Tensor blocks) =>
        blocks.reshape(blocks.shape[0], Blocks * Block, blocks.shape[3]).narrow(1, 0, Length);

    /// <summary>
    /// Band sums <c>[B, T, C]</c>: for each block, <paramref name="matrix"/> (<c>[n, b, span]</c> shared by the batch,
    /// or <c>[B, n, b, span]</c>) times its window of <paramref name="x"/> <c>[B, T, C]</c>.
    /// </summary>
    public Tensor Apply(Tensor matrix, Tensor x)
    {
        var sources = SourceBlocks(x);                                                 // [B, n + 1, b, C]
        var sums = matrix.narrow(-1, 0, Block).matmul(sources.narrow(1, 0, Blocks));
        sums.add_(matrix.narrow(-1, Block, Tail).matmul(sources.narrow(1, 1, Blocks).narrow(2, 0, Tail)));
        return Unblocked(sums);
    }

    /// <summary>The transpose of <see cref="Apply"/>: every window's <c>matrixᵀ · rows</c> added back to its positions, <c>[B, T, C]</c>.</summary>
    public Tensor ApplyTransposed(Tensor matrix, Tensor upstream)
    {
        var rows = Blocked(upstream);                                                  // [B, n, b, C]
        var (batch, channels) = (upstream.shape[0], upstream.shape[2]);
        var padded = zeros([batch, Blocks + 1, Block, channels], dtype: upstream.dtype, device: upstream.device);
        padded.narrow(1, 0, Blocks).add_(matrix.narrow(-1, 0, Block).transpose(-1, -2).matmul(rows));
        padded.narrow(1, 1, Blocks).narrow(2, 0, Tail).add_(matrix.narrow(-1, Block, Tail).transpose(-1, -2).matmul(rows));
        return padded.view(batch, (Blocks + 1) * Block, channels).narrow(1, Window - 1, Length);
    }

    /// <summary>
    /// <c>rows · windowᵀ</c> per block, <c>[B, n, b, span]</c>: the band entries of upstream·xᵀ, from which
    /// the gradient of the biases follows.
    /// </summary>
    public Tensor Correlate(Tensor upstream, Tensor x)
    {
        var rows = Blocked(upstream);
        var sources = SourceBlocks(x);
        return cat([rows.matmul(sources.narrow(1, 0, Blocks).transpose(-1, -2)),
                    rows.matmul(sources.narrow(1, 1, Blocks).narrow(2, 0, Tail).transpose(-1, -2))], -1);
    }

    /// <summary>Factor rows of the target blocks: <c>[n, b, r]</c> from <c>[maxLength, r]</c>.</summary>
    public Tensor BlockFactors(Tensor u) => Blocked(u.narrow(0, 0, Length).unsqueeze(0)).squeeze(0);

    /// <summary>Factor rows of the source windows: <c>[n, span, r]</c> from <c>[maxLength, r]</c>.</summary>
    public Tensor WindowFactors(Tensor w) => Windows(w.narrow(0, 0, Length).unsqueeze(0)).squeeze(0);

    /// <summary>Source windows of a narrow <paramref name="x"/> <c>[B, T, C]</c>: <c>[B, n, span, C]</c> (a copy; for factors and shifts).</summary>
    public Tensor Windows(Tensor x)
    {
        var sources = SourceBlocks(x);                                                 // [B, n + 1, b, C]
        return cat([sources.narrow(1, 0, Blocks), sources.narrow(1, 1, Blocks).narrow(2, 0, Tail)], 2);
    }

    /// <summary>The transpose of <see cref="WindowFactors"/>: per-window rows <c>[n, span, r]</c> summed back to <c>[T, r]</c>.</summary>
    public Tensor WindowFactorsTransposed(Tensor windows)
    {
        var (rank, dtype, device) = (windows.shape[2], windows.dtype, windows.device);
        var padded = zeros([Blocks + 1, Block, rank], dtype: dtype, device: device);
        padded.narrow(0, 0, Blocks).add_(windows.narrow(1, 0, Block));
        padded.narrow(0, 1, Blocks).narrow(1, 0, Tail).add_(windows.narrow(1, Block, Tail));
        return padded.view((Blocks + 1) * Block, rank).narrow(0, Window - 1, Length);
    }

    /// <summary>The sequence shifted right by s − 1 and zero-padded to n + 1 blocks: <c>[B, n + 1, b, C]</c>.</summary>
    public Tensor SourceBlocks(Tensor x) =>
        Pad(x, Window - 1, (Blocks + 1) * Block - Length - (Window - 1)).view(x.shape[0], Blocks + 1, Block, x.shape[2]);

    static Tensor Pad(Tensor x, long before, long after) =>
        before == 0 && after == 0 ? x : nn.functional.pad(x, [0, 0, before, after]);
}
