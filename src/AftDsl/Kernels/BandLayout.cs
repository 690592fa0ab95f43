using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// The band |t − t'| &lt; s of AFT-local, cut into blocks: n blocks of b target rows, each facing a
/// window of <see cref="Span"/> source positions (b + 2(s − 1), or b + s − 1 when causal) that starts
/// s − 1 positions before the block. Sequences are padded with zeros on both sides so that every window
/// has the same shape, and products over the band become batched matrix products of
/// <c>[n, b, span]</c> matrices. Only the band is ever evaluated: memory is O(T·span), not O(T²).
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
    long Padded => Blocks * Block + Span - Block;

    /// <summary><c>[b, span]</c>: true where the source lies in the target's band (and not in its future, causal).</summary>
    public Tensor Mask { get; }

    /// <summary><c>[n, span]</c>: true where a window column is padding, before the start or past the end.</summary>
    public Tensor SourceOutside { get; }

    /// <summary>Rows of <paramref name="x"/> <c>[B, T, C]</c> grouped by target block: <c>[B, n, b, C]</c>, zero-padded.</summary>
    public Tensor Blocked(Tensor x) =>
        Pad(x, 0, Blocks * Block - Length).view(x.shape[0], Blocks, Block, x.shape[2]);

    /// <summary>Source windows of <paramref name="x"/> <c>[B, T, C]</c>: <c>[B, n, span, C]</c>, zero-padded (a copy).</summary>
    public Tensor Windows(Tensor x) =>
        Pad(x, Window - 1, Padded - Length - (Window - 1)).unfold(1, Span, Block).permute(0, 1, 3, 2).contiguous();

    /// <summary>The transpose of <see cref="Windows"/>: adds every window <c>[B, n, span, C]</c> back to its positions, <c>[B, T, C]</c>.</summary>
    public Tensor OverlapAdd(Tensor windows)
    {
        var (batch, channels) = (windows.shape[0], windows.shape[3]);
        var padded = zeros([batch, Padded + Block, channels], dtype: windows.dtype, device: windows.device);
        // Window i covers padded rows [i·b, i·b + span): split it into pieces of b rows, each of which
        // lands, for all i at once, in one contiguous stretch of the padded sequence.
        for (long offset = 0; offset < Span; offset += Block)
        {
            var rows = Math.Min(Block, Span - offset);
            var target = padded.narrow(1, offset, Blocks * Block).view(batch, Blocks, Block, channels).narrow(2, 0, rows);
            target.add_(windows.narrow(2, offset, rows));
        }
        return padded.narrow(1, Window - 1, Length);
    }

    /// <summary>Factor rows of the target blocks: <c>[n, b, r]</c> from <c>[maxLength, r]</c>.</summary>
    public Tensor BlockFactors(Tensor u) => Blocked(u.narrow(0, 0, Length).unsqueeze(0)).squeeze(0);

    /// <summary>Factor rows of the source windows: <c>[n, span, r]</c> from <c>[maxLength, r]</c>.</summary>
    public Tensor WindowFactors(Tensor w) => Windows(w.narrow(0, 0, Length).unsqueeze(0)).squeeze(0);

    /// <summary>Flattens per-block rows <c>[B, n, b, C]</c> back to <c>[B, T, C]</c>.</summary>
    public Tensor Unblocked(Tensor blocks) =>
        blocks.reshape(blocks.shape[0], Blocks * Block, blocks.shape[3]).narrow(1, 0, Length);

    static Tensor Pad(Tensor x, long before, long after) =>
        before == 0 && after == 0 ? x : nn.functional.pad(x, [0, 0, before, after]);
}
