using AftDsl.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Modules;

/// <summary>
/// <see cref="PreNormBlock"/>s applied in order. State-dict names: <c>blocks.{index}.mixer_norm…</c>.
/// A stack of sequence mixers given a grid <c>[B, H, W, dim]</c> mixes its H·W positions as one
/// sequence (row-major), and returns the grid's shape.
/// </summary>
public sealed class BlockStack : nn.Module<Tensor, Tensor>
{
    private readonly TorchSharp.Modules.ModuleList<PreNormBlock> blocks;
    private readonly bool flattenGrid;

    /// <param name="blocks">The blocks, applied in order.</param>
    /// <param name="flattenGrid">True when the blocks' mixers take sequences but the stack receives grids.</param>
    public BlockStack(IEnumerable<PreNormBlock> blocks, bool flattenGrid = false) : base(nameof(BlockStack))
    {
        this.blocks = nn.ModuleList(blocks.ToArray());
        this.flattenGrid = flattenGrid;
        RegisterComponents();
    }

    /// <summary>Number of blocks.</summary>
    public int Count => blocks.Count;

    /// <summary>The block at <paramref name="index"/>.</summary>
    public PreNormBlock this[int index] => blocks[index];

    /// <summary>The blocks applied in order to <c>[B, T, dim]</c> or <c>[B, H, W, dim]</c>; same shape out.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var shape = x.shape;
        var h = flattenGrid && x.dim() == 4 ? x.reshape(shape[0], shape[1] * shape[2], shape[3]) : x;
        foreach (var block in blocks)
            h = block.forward(h);
        return (flattenGrid && x.dim() == 4 ? h.reshape(shape) : h).MoveToOuterDisposeScope();
    }

    /// <summary>A decoding state for <paramref name="batch"/> sequences: one per block's mixer, which must be causal.</summary>
    public BlockStackDecodingState BeginDecoding(long batch) =>
        new(nameof(BlockStack), batch, blocks.Select(block => block.BeginDecoding(batch)));

    /// <summary>The next position of each sequence through every block: <c>[B, dim]</c> → <c>[B, dim]</c>.</summary>
    public Tensor Step(Tensor x, BlockStackDecodingState state, Tensor? active = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var scope = NewDisposeScope();
        var h = x;
        for (var i = 0; i < blocks.Count; i++)
            h = blocks[i].Step(h, state.Mixers[i], active);
        return h.MoveToOuterDisposeScope();
    }
}
