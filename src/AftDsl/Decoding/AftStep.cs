using AftDsl.Decoding.Maths;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// One decoding step of each causal mixer, on the projected query, key and value of the next position
/// (<c>[B, H]</c> each) → the mixed <c>[B, H]</c>, equal to that position's row of the full causal forward.
/// Generated layers call these from their <c>Step</c>; the recurrences live in <see cref="Maths"/>. Each
/// checks the state, runs without autograd, and moves the rows that <c>active</c> marks (all when null)
/// one position on; the other rows keep their state, and their output is zero.
/// </summary>
public static class AftStep
{
    const string BiasBound = "its position biases pos_u and pos_w";

    /// <summary>Causal AFT-simple: O(H) per step at any position.</summary>
    public static Tensor Simple(Tensor q, Tensor k, Tensor v, AftSimpleDecodingState state, Tensor? active = null) =>
        Run(q, state, active, bound: null, (rows, _) => SimpleRecurrence.Step(q, k, v, state, rows), needsPositions: false);

    /// <summary>Causal AFT-local with window s and bias factors <paramref name="u"/>, <paramref name="w"/> <c>[maxLength, rank]</c>: O(s·H).</summary>
    public static Tensor Local(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, AftLocalDecodingState state, Tensor? active = null) =>
        Run(q, state, active, bound: u.shape[0], (rows, positions) =>
            LocalRecurrence.Step(q, k, v, LocalRecurrence.FactorisedBias(u, w, positions, state.Window), positions, state, rows));

    /// <summary>
    /// Causal 1-d AFT-conv, as AFT-local with its shared kernel: <paramref name="k"/> is <c>[B, heads]</c>, <paramref name="kernel"/>
    /// the effective <c>[heads, s]</c>, q and v <c>[B, Dim]</c>. No position bound. <paramref name="connectivity"/> as the
    /// layer's forward: <see cref="AftConvConnectivity.Window"/> keeps no sums of the positions older than the window.
    /// </summary>
    public static Tensor Conv(Tensor q, Tensor k, Tensor v, Tensor kernel, AftLocalDecodingState state, Tensor? active = null,
        AftConvConnectivity connectivity = AftConvConnectivity.Global) =>
        Run(q, state, active, bound: null, (rows, positions) =>
        {
            var width = q.shape[1];
            var keys = k.repeat_interleave(width / kernel.shape[0], dim: 1);
            return LocalRecurrence.Step(q, keys, v, LocalRecurrence.ConvBias(kernel, width), positions, state, rows,
                windowOnly: connectivity == AftConvConnectivity.Window);
        });

    /// <summary>Causal AFT-full with bias factors <paramref name="u"/>, <paramref name="w"/> <c>[maxLength, rank]</c>: O(t·H) at position t.</summary>
    public static Tensor Full(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, AftFullDecodingState state, Tensor? active = null) =>
        Run(q, state, active, bound: u.shape[0], (rows, positions) =>
            FullRecurrence.Step(q, k, v, u, w, positions, Math.Min(state.Position, u.shape[0] - 1) + 1, state, rows));

    /// <summary>Causal multi-head attention with <paramref name="heads"/> heads and a KV cache: O(t·H) at position t.</summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, long heads, KeyValueCacheState state, Tensor? active = null) =>
        Run(q, state, active, bound: null, (_, positions) =>
            AttentionCache.Step(q, k, v, heads, positions, state.Position + 1, state));

    static Tensor Run(Tensor q, DecodingState state, Tensor? active, long? bound, Func<ActiveRows, Tensor, Tensor> step, bool needsPositions = true)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(state);
        state.CheckUsable(q.size(0));
        var rows = ActiveRows.From(active, state.Batch, state.Owner);
        if (bound is { } limit)
            state.CheckBound(rows, limit, BiasBound);
        using var scope = NewDisposeScope();
        using var inference = no_grad();
        // A step is dozens of small operations: skip the ones a step does not need (positions, the mask's zeros).
        // Rows left out may stand at the bound, past the biases: their positions are clamped, their outputs discarded.
        var positions = needsPositions ? state.PositionTensor(q.device) : null!;
        if (needsPositions && bound is { } last)
            positions = positions.clamp_max(last - 1);
        var mixed = step(rows, positions);
        var result = rows.All ? mixed : rows.Select(mixed, zeros_like(mixed));
        state.Advance(rows);
        return result.MoveToOuterDisposeScope();
    }
}
