using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding.Maths;

/// <summary>
/// One step of causal AFT-local (Eq. 4) at position t: the window t − s + 1 … t (the stored s − 1 keys and
/// values and the new one) with their biases, and the older positions with bias 0, whose running sums carry
/// their own running maximum. Both parts share one shift, the larger maximum, so no exponent is positive.
/// This sums exp(K + w) directly rather than the linear-time form's Σ exp(K) + Σ (exp(w) − 1)·exp(K), whose
/// terms can cancel. Afterwards the oldest window position joins the older sums, unless only the window counts
/// (AFT-conv's window connectivity): then the older sums stay empty (max −∞, sums 0) and add nothing.
/// </summary>
internal static class LocalRecurrence
{
    /// <remarks><c>bias</c>: The biases of the window's s positions, oldest first, broadcastable to <c>[B, s, H]</c>. <c>positions</c>: Each row's position t, <c>[B]</c> int64.</remarks>
    public static Tensor Step(Tensor q, Tensor k, Tensor v, Tensor bias, Tensor positions, AftLocalDecodingState state, ActiveRows rows, bool windowOnly = false)
    {
        var keys = cat([state.WindowKeys, k.unsqueeze(1)], 1);                          // [B, s, H]
        var values = cat([state.WindowValues, v.unsqueeze(1)], 1);
        var before = WindowPositions(positions, state.Window) < 0;                      // [B, s]: before the sequence began
        // Keys first shifted by their own maximum, then biased: K − M is exact for keys close to each other, where
        // K + w would round K's large value (1e4 in float32 has a spacing of 1e-3) before the shift.
        var masked = keys.masked_fill(before.unsqueeze(2), double.NegativeInfinity);
        var keyMax = maximum(masked.amax([1]), state.OlderMax);                        // finite: the new position is in the window
        var scores = masked - keyMax.unsqueeze(1) + bias;
        var older = state.OlderMax - keyMax;
        var max = maximum(scores.amax([1]), older);
        var weights = (scores - max.unsqueeze(1)).exp_();
        var olderDecay = (older - max).exp_();
        var numerator = (weights * values).sum(1) + state.OlderNumerator * olderDecay;
        var denominator = weights.sum(1) + state.OlderDenominator * olderDecay;
        var mixed = q.sigmoid() * numerator / denominator;

        var leaving = keys.select(1, 0).masked_fill(before.select(1, 0).unsqueeze(1), double.NegativeInfinity);
        var olderMax = maximum(state.OlderMax, leaving);
        var shift = olderMax.masked_fill(olderMax.isneginf(), 0);                       // −∞ while nothing is older: exp(−∞ − 0) = 0
        var keep = (state.OlderMax - shift).exp_();
        var join = (leaving - shift).exp_();
        var olderNumerator = state.OlderNumerator * keep + join * values.select(1, 0);
        var olderDenominator = state.OlderDenominator * keep + join;

        var window = state.Window - 1;
        var (windowKeys, windowValues) = (rows.Select(keys.narrow(1, 1, window).contiguous(), state.WindowKeys),
            rows.Select(values.narrow(1, 1, window).contiguous(), state.WindowValues));
        DecodingState.Keep(ref state.WindowKeys, windowKeys);
        DecodingState.Keep(ref state.WindowValues, windowValues);
        if (windowOnly)
            return mixed;
        var (keptMax, keptNumerator, keptDenominator) = (rows.Select(olderMax, state.OlderMax),
            rows.Select(olderNumerator, state.OlderNumerator), rows.Select(olderDenominator, state.OlderDenominator));
        DecodingState.Keep(ref state.OlderMax, keptMax);
        DecodingState.Keep(ref state.OlderNumerator, keptNumerator);
        DecodingState.Keep(ref state.OlderDenominator, keptDenominator);
        return mixed;
    }

    /// <summary><c>[B, s]</c>: the position of each window slot, t − s + 1 … t, per row.</summary>
    public static Tensor WindowPositions(Tensor positions, long window) =>
        positions.unsqueeze(1) + arange(1 - window, 1, dtype: ScalarType.Int64, device: positions.device).unsqueeze(0);

    /// <summary>
    /// AFT-local's biases of the window, <c>[B, s, 1]</c>: w_t,t' = u_t · w_t' for t' = t − s + 1 … t, from the factors
    /// <paramref name="u"/>, <paramref name="w"/> <c>[maxLength, rank]</c>; slots before position 0 get any value (they are masked).
    /// </summary>
    public static Tensor FactorisedBias(Tensor u, Tensor w, Tensor positions, long window)
    {
        var sources = WindowPositions(positions, window).clamp_min(0);                  // [B, s]
        var rows = w.index_select(0, sources.flatten()).view(positions.shape[0], window, w.shape[1]);
        return rows.matmul(u.index_select(0, positions).unsqueeze(2));                  // [B, s, 1]
    }

    /// <summary>
    /// Causal 1-d AFT-conv's biases of the window, <c>[1, s, Dim]</c>: tap j of head h sits at offset j − (s − 1) and is
    /// shared by the head's Dim / heads channels. <paramref name="kernel"/> is the reparameterised <c>[heads, s]</c>.
    /// </summary>
    public static Tensor ConvBias(Tensor kernel, long dim) =>
        kernel.repeat_interleave(dim / kernel.shape[0], dim: 0).t().unsqueeze(0);
}
