using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding.Maths;

/// <summary>
/// One step of causal AFT-full (Eq. 2) at position t. exp(K_t' + w_t,t') factorises into exp(K_t' − r)·exp(w_t,t' − m_t)
/// (times constants that cancel in the ratio), with r the running maximum of the keys and m_t the maximum of the new
/// bias row: the state stores exp(K − r)⊙V and exp(K − r) per position, rescaled when r grows, and a step needs the
/// bias row u_t·W[0…t]ᵀ and one product of it with the stored rows. No exponent is positive.
/// </summary>
internal static class FullRecurrence
{
    /// <remarks><c>positions</c>: Each row's position t, <c>[B]</c> int64; <paramref name="length"/> is the largest t + 1.</remarks>
    public static Tensor Step(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, Tensor positions, long length,
        AftFullDecodingState state, ActiveRows rows)
    {
        var reference = rows.Select(maximum(state.Reference, k), state.Reference);
        using (var grew = (reference > state.Reference).any())
            if (grew.item<bool>())                                                      // rare after the first steps: keys rarely set a new maximum
            {
                // A row that has seen no key yet has r = −∞ before and after: −∞ − (−∞) is NaN, and its factor is 1.
                var factor = (state.Reference - reference).nan_to_num(0).exp_();
                state.Weighted.Scale(cat([factor, factor], 1));
            }
        DecodingState.Keep(ref state.Reference, reference);

        var weight = (k - reference).exp_();
        var entry = rows.Select(cat([weight * v, weight], 1), zeros_like(weight).repeat(1, 2));
        state.Weighted.Write(entry, positions, length - 1);

        var sources = arange(length, dtype: ScalarType.Int64, device: positions.device).unsqueeze(0);
        var bias = u.index_select(0, positions).matmul(w.narrow(0, 0, length).t())      // [B, t + 1]: the new row only
            .masked_fill(sources > positions.unsqueeze(1), double.NegativeInfinity);
        var e = (bias - bias.amax([1], keepdim: true)).exp_();
        var sums = e.unsqueeze(1).bmm(state.Weighted.Prefix(length)).squeeze(1);       // [B, 2H]
        var (numerator, denominator) = (sums.narrow(1, 0, k.shape[1]), sums.narrow(1, k.shape[1], k.shape[1]));
        return q.sigmoid() * numerator / denominator;
    }
}
