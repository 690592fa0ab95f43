using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding.Maths;

/// <summary>
/// One step of causal AFT-full (Eq. 2) at position t. exp(K_t' + w_t,t') factorises into exp(K_t' − r)·exp(w_t,t' − m_t)
/// (times constants that cancel in the ratio), with r a reference that follows the largest key and m_t the maximum of the
/// new bias row: the state stores exp(K − r)⊙V and exp(K − r) per position, rescaled when r moves, and a step needs the
/// bias row u_t·W[0…t]ᵀ and one product of it with the stored rows. No exponent exceeds the headroom below.
/// </summary>
internal static class FullRecurrence
{
    /// <summary>How far keys may rise above the reference before the history is rescaled: e^30 ≈ 1e13, summed over any length, stays finite in float32.</summary>
    const double Headroom = 30;

    /// <remarks><c>positions</c>: Each row's position t, <c>[B]</c> int64; <paramref name="length"/> is the largest t + 1.</remarks>
    public static Tensor Step(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, Tensor positions, long length,
        AftFullDecodingState state, ActiveRows rows)
    {
        // r may lag the largest key by up to Headroom: stored weights then reach e^Headroom, far from overflow, and the
        // history (O(t·d)) is rescaled only when a key passes r + Headroom, not whenever one of the B·H maxima grows.
        var passed = rows.Select(k > state.Reference + Headroom, zeros_like(k, dtype: ScalarType.Bool));
        using (var any = passed.any())
            if (any.item<bool>())
            {
                var reference = where(passed, k, state.Reference);
                // A row that has seen no key yet has r = −∞ before and after: −∞ − (−∞) is NaN, and its factor is 1.
                var factor = (state.Reference - reference).nan_to_num(0).exp_();
                state.Weighted.Scale(cat([factor, factor], 1));
                DecodingState.Keep(ref state.Reference, reference);
            }

        var weight = (k - state.Reference).exp_();
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
