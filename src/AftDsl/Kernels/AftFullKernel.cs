using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-full (paper Eq. 2) in its matmul form: with E = exp(w) and P = exp(K),
/// numerator = E·(P⊙V) and denominator = E·P, so nothing of size B×T×T×d is ever allocated.
/// </summary>
/// <remarks>
/// Stability (design/aft-math.md): exponents are shifted by maxima that cancel in the ratio.
/// Non-causal: a per-channel max of K over time and a per-row max of w. Causal: shifts must not come
/// from the future, so K is shifted per position by its max over channels (that position's own data),
/// and that shift moves into the bias row, whose max is then taken over t' ≤ t only. Either way an
/// entry whose denominator still underflows (keys and biases both far apart) is recomputed exactly,
/// row by row, with a log-sum-exp over t' (see <see cref="AftExactRows"/>): outputs stay finite and
/// exact for any input, and the fast path is taken whenever the data allow it.
/// </remarks>
public static class AftFullKernel
{
    /// <summary>
    /// Mixes <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/> (<c>[B, T, H]</c>) with the
    /// position biases <paramref name="w"/> (<c>[T, T]</c>, row = target t, column = source t').
    /// </summary>
    public static Tensor Forward(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var (numerator, denominator) = causal ? CausalSums(k, v, w) : FullSums(k, v, w);
        var underflow = denominator < AftExactRows.UnderflowThreshold(denominator.dtype);
        var safe = where(underflow, ones_like(denominator), denominator);
        var ratio = AftExactRows.Repair(numerator / safe, underflow, k, v, w, causal);
        return (q.sigmoid() * ratio).MoveToOuterDisposeScope();
    }

    // E = exp(w - rowmax w) is shared by the batch: one [T, T] × [T, B·2H] product does every sum.
    static (Tensor Numerator, Tensor Denominator) FullSums(Tensor k, Tensor v, Tensor w)
    {
        var (batch, length, hidden) = (k.shape[0], k.shape[1], k.shape[2]);
        var p = (k - k.amax([1], keepdim: true)).exp();
        var e = (w - w.amax([1], keepdim: true)).exp();
        var stacked = cat([p * v, p], 2).permute(1, 0, 2).reshape(length, batch * 2 * hidden);
        var sums = e.matmul(stacked).reshape(length, batch, 2 * hidden).permute(1, 0, 2);
        return (sums.narrow(2, 0, hidden), sums.narrow(2, hidden, hidden));
    }

    // Per-position shift s_t' = max_c K[t', c] is causal (it reads position t' only); it is added to
    // column t' of the biases, masked above the diagonal, and each row is shifted by its own max.
    static (Tensor Numerator, Tensor Denominator) CausalSums(Tensor k, Tensor v, Tensor w)
    {
        var (length, hidden) = (k.shape[1], k.shape[2]);
        var shift = k.amax([2], keepdim: true);                       // [B, T, 1]
        var p = (k - shift).exp();
        var scores = w.unsqueeze(0) + shift.transpose(1, 2);        // [B, T, T]: w[t, t'] + s[t']
        scores = scores.masked_fill(CausalMask.Future(length, k.device), double.NegativeInfinity);
        var e = (scores - scores.amax([2], keepdim: true)).exp();
        var sums = e.bmm(cat([p * v, p], 2));
        return (sums.narrow(2, 0, hidden), sums.narrow(2, hidden, hidden));
    }
}
