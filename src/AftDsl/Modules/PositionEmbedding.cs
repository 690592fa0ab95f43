using AftDsl.Decoding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Modules;

/// <summary>
/// Learned absolute positions added to a sequence <c>[B, T, dim]</c> (T ≤ positions) or a fixed grid
/// <c>[B, H, W, dim]</c>; what the paper's Transformer baselines use, and what AFT-full and AFT-local
/// do not need (their pair-wise biases carry position). Initialised from N(0, 0.02²). State-dict name: <c>weight</c>.
/// </summary>
public sealed class PositionEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    /// <param name="shape">Positions then width: <c>[maxLength, dim]</c> for sequences, <c>[H, W, dim]</c> for grids.</param>
    public PositionEmbedding(params long[] shape) : base(nameof(PositionEmbedding))
    {
        using (no_grad())
        {
            weight = new Parameter(empty(shape));
            nn.init.normal_(weight, 0, 0.02);
        }
        RegisterComponents();
    }

    /// <summary>Adds the first T positions to <c>[B, T, dim]</c>, or the whole grid to <c>[B, H, W, dim]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var positions = x.dim() == 3 ? weight.narrow(0, 0, x.shape[1]) : weight;
        return (x + positions).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Adds each row's position (from <paramref name="state"/>) to the next position's features <c>[B, dim]</c>.
    /// Throws <see cref="DecodingLengthException"/> at a position beyond the table.
    /// </summary>
    public Tensor Step(Tensor x, DecodingState state, Tensor? active = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(state);
        state.CheckBound(ActiveRows.From(active, state.Batch, state.Owner), weight.shape[0], "its position embedding's rows");
        using var scope = NewDisposeScope();
        if (state.SharedPosition is { } shared)                                           // the common case: one row of the table for all
            return (x + weight.narrow(0, Math.Min(shared, weight.shape[0] - 1), 1)).MoveToOuterDisposeScope();
        var positions = state.PositionTensor(x.device).clamp_max(weight.shape[0] - 1);    // rows left out of the step may be past the table
        return (x + weight.index_select(0, positions)).MoveToOuterDisposeScope();
    }
}
