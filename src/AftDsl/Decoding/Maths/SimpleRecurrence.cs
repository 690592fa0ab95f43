using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding.Maths;

/// <summary>
/// One step of causal AFT-simple (Eq. 5): with m the running maximum of the keys, N = Σ exp(K − m)⊙V and
/// D = Σ exp(K − m), a new key k moves m to m' = max(m, k), scales N and D by exp(m − m') and adds
/// exp(k − m')⊙v and exp(k − m'). Every exponent is ≤ 0, so the sums stay finite for keys of any size.
/// </summary>
internal static class SimpleRecurrence
{
    public static Tensor Step(Tensor q, Tensor k, Tensor v, AftSimpleDecodingState state, ActiveRows rows)
    {
        if (SimpleRecurrenceCpu.Applies(q, k, v, state))
            return SimpleRecurrenceCpu.Step(q, k, v, state, rows);
        var max = maximum(state.Max, k);
        var decay = (state.Max - max).exp_();
        var weight = (k - max).exp_();
        var numerator = state.Numerator * decay + weight * v;
        var denominator = state.Denominator * decay + weight;
        var mixed = q.sigmoid() * numerator / denominator;
        var (keptMax, keptNumerator, keptDenominator) =
            (rows.Select(max, state.Max), rows.Select(numerator, state.Numerator), rows.Select(denominator, state.Denominator));
        DecodingState.Keep(ref state.Max, keptMax);
        DecodingState.Keep(ref state.Numerator, keptNumerator);
        DecodingState.Keep(ref state.Denominator, keptDenominator);
        return mixed;
    }
}
