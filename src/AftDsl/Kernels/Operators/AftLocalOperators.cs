using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-local (paper Eq. 4) in linear time, fused: w = U·Wᵀ inside the window |t − t'| &lt; s and 0 (not
/// −∞) outside, computed as global sums plus a band correction (aft-math.md):
/// numerator_t = Σ_t' P_t' V_t' + Σ_band (e^{w_t,t'} − 1) P_t' V_t', and the same for the denominator
/// without V. The global sums are O(T·H) (prefix sums when causal); the band, with w evaluated on the
/// band only (<see cref="BandLayout"/>), is O(T·s·H). Nothing of size T×T exists.
/// </summary>
/// <remarks>
/// <para>Shifts: each row's band is scaled by e^{−ρ_t}, ρ_t the row's largest exponent, so the band
/// factors e^{w−ρ} − e^{−ρ} stay within [−1, 1]. Non-causal, K is shifted by its per-channel max;
/// causal, the global sums come from <see cref="RunningMaxScan"/> (running max per channel) and the band
/// uses the per-position channel max of K, as in <see cref="AftFullOperators"/>, the two meeting at the
/// larger of their shifts. Nothing reads the future.</para>
/// <para>The band correction subtracts: when the band holds nearly all of a row's weight and e^w ≪ 1
/// there, the denominator cancels. Rows whose denominator falls below 1/16 of its global part (or
/// underflows) are recomputed exactly (<see cref="ExactRows"/>), so the result keeps full precision.</para>
/// </remarks>
internal static class AftLocalOperators
{
    const string CausalKey = "causal", WindowKey = "window";
    const double CancellationLimit = 1.0 / 16;

    /// <summary>
    /// <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; <paramref name="u"/>,
    /// <paramref name="w"/>: <c>[maxLength, rank]</c>; <paramref name="window"/>: s ≥ 1.
    /// </summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, long window, bool causal)
    {
        using var scope = NewDisposeScope();
        var (length, hidden) = (k.shape[1], k.shape[2]);
        var band = new BandLayout(length, window, causal, k.device);
        var bias = BandBias(band, u, w);                                                  // [n, b, span]
        var threshold = ExactRows.UnderflowThreshold(k.dtype);

        Tensor ratio, denominator, shift, rowShift, combined, flags;
        if (causal)
        {
            shift = k.amax([2], keepdim: true);                                            // per position
            var (running, sums) = RunningMaxScan.Prefix(k, v, null);                       // global part, per channel
            var (matrix, _, rho) = CausalBand(band, bias, shift);                          // [B, n, b, span]
            var banded = BandSums(band, matrix, k, v, shift);                              // [B, T, 2H]
            rowShift = band.Unblocked(rho);                                                // [B, T, 1]
            combined = maximum(running, rowShift);
            var globalScale = running.sub_(combined).exp_();
            using (var bandScale = (rowShift - combined).exp_())
            {
                ratio = sums[0].mul_(globalScale).addcmul_(banded.narrow(2, 0, hidden), bandScale, 1);
                banded.narrow(2, hidden, hidden).mul_(bandScale);
            }
            var global = sums[1].mul_(globalScale);
            (denominator, flags) = Combine(global, banded.narrow(2, hidden, hidden), threshold);
        }
        else
        {
            shift = k.amax([1], keepdim: true);                                            // per channel
            var (matrix, _, rho) = Band(bias);
            var banded = BandSums(band, matrix, k, v, shift, out var totals);
            rowShift = band.Unblocked(rho.unsqueeze(0)).squeeze(0);                        // [T, 1]
            combined = rowShift;
            var scale = rowShift.neg().exp();
            ratio = banded.narrow(2, 0, hidden).addcmul_(totals.narrow(2, 0, hidden), scale, 1);
            (denominator, flags) = Combine(totals.narrow(2, hidden, hidden) * scale, banded.narrow(2, hidden, hidden), threshold);
        }

        var repaired = ExactRows.Flagged(flags);
        ratio.div_(denominator);                                                           // flagged rows are overwritten next
        BiasRows rows = (t, n, f) => LocalBiasRows(t, n, f, window);
        ExactRows.Repair(ratio, repaired, k, v, rows, [u, w], causal);

        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, window);
        SavedTensors.Save(ctx, inputs: [q, k, v, u, w], created: [ratio, denominator, shift, rowShift, combined, repaired]);
        return q.sigmoid().mul_(ratio).MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, u, w (in that order).</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var window = (long)ctx.get_data(WindowKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, u, w) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        var (ratio, denominator, shift, rowShift, combined, repaired) = (saved[5], saved[6], saved[7], saved[8], saved[9], saved[10]);
        var (length, hidden) = (k.shape[1], k.shape[2]);
        var band = new BandLayout(length, window, causal, k.device);

        var (dq, s) = AftSimpleOperators.GateGradients(q, grad, ratio);
        var upstream = AftFullOperators.Upstream(s, denominator, ratio, repaired);           // [h | −h R], h = S / D
        if (repaired.shape[0] == 0) s.Dispose();
        var bias = BandBias(band, u, w);
        Tensor dv, dk, matrix, exponentials;
        if (causal)
        {
            // Global part: Σ_{t ≥ t'} e^{K_t' − M_t} [h | −h R]_t, a suffix scan normalised by the running max of −M.
            var (running, sums) = RunningMaxScan.Suffix(combined.neg(), upstream.narrow(2, 0, hidden), upstream.narrow(2, hidden, hidden));
            var weight = running.add_(k).exp_();
            dv = sums[0].mul_(weight);
            dk = sums[1].mul_(weight);                                                     // V ⊙ ∂V is added once, below
            weight.Dispose();
            using (var scale = (rowShift - combined).exp_())                               // the band part sees h e^{ρ − M}
            {
                upstream.narrow(2, 0, hidden).mul_(scale);
                upstream.narrow(2, hidden, hidden).mul_(scale);
            }
            (matrix, exponentials, _) = CausalBand(band, bias, shift);
        }
        else
        {
            var totals = upstream.transpose(1, 2).matmul(rowShift.neg().exp()).transpose(1, 2);   // Σ_t e^{−ρ_t} [h | −h R]_t: [B, 1, 2H]
            var p = (k - shift).exp_();
            dv = p * totals.narrow(2, 0, hidden);
            dk = p.mul_(totals.narrow(2, hidden, hidden));
            (matrix, exponentials, _) = Band(bias);
        }

        Tensor dBias;
        using (NewDisposeScope())
        {
            var x = Stacked(k, v, shift);
            var p = x.narrow(2, hidden, hidden);
            var transposed = band.ApplyTransposed(matrix, upstream);                      // [B, T, 2H]
            // ∂V = P ⊙ M_A and ∂K = P ⊙ (V ⊙ M_A + M_D), each summed over the global and band parts.
            dv.addcmul_(p, transposed.narrow(2, 0, hidden), 1);
            dk.addcmul_(p, transposed.narrow(2, hidden, hidden), 1).addcmul_(v, dv, 1);
            transposed.Dispose();
            var products = band.Correlate(upstream, x).mul_(exponentials);
            dBias = (products.shape[0] == 1 ? products.squeeze(0) : products.sum(dim: 0)).MoveToOuterDisposeScope();
        }
        upstream.Dispose();

        dBias.masked_fill_(band.Mask.logical_not(), 0);
        var (du, dw) = (zeros_like(u), zeros_like(w));
        du.narrow(0, 0, length).copy_(band.Unblocked(dBias.bmm(band.WindowFactors(w)).unsqueeze(0)).squeeze(0));
        dw.narrow(0, 0, length).copy_(band.WindowFactorsTransposed(dBias.transpose(1, 2).bmm(band.BlockFactors(u))));
        if (repaired.shape[0] > 0)
        {
            BiasRows rows = (t, n, f) => LocalBiasRows(t, n, f, window);
            ExactRows.AddGradients(repaired, s, k, v, rows, [u, w], causal, dk, dv, [du, dw]);
        }
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(),
                du.MoveToOuterDisposeScope(), dw.MoveToOuterDisposeScope()];
    }

    // Denominator = global + band, in place on the global part, and the rows to recompute exactly: where the
    // band's negative correction cancels more than 15/16 of the global part, or the sum underflows.
    static (Tensor Denominator, Tensor Flags) Combine(Tensor global, Tensor band, double threshold)
    {
        Tensor cancels;
        using (var limit = global * (CancellationLimit - 1))
            cancels = band < limit;
        var denominator = global.add_(band);
        return (denominator, cancels.logical_or_(denominator < threshold));
    }

    // X = [P ⊙ V | P], P = exp(K − shift): [B, T, 2H] without temporaries.
    static Tensor Stacked(Tensor k, Tensor v, Tensor shift)
    {
        var hidden = k.shape[2];
        var x = empty([k.shape[0], k.shape[1], 2 * hidden], dtype: k.dtype, device: k.device);
        var p = x.narrow(2, hidden, hidden).copy_(k).sub_(shift).exp_();
        x.narrow(2, 0, hidden).copy_(v).mul_(p);
        return x;
    }

    // The band sums matrix·X, [B, T, 2H], keeping X only as long as the product needs it (and its column totals, non-causal).
    static Tensor BandSums(BandLayout band, Tensor matrix, Tensor k, Tensor v, Tensor shift) => BandSums(band, matrix, k, v, shift, out _);

    static Tensor BandSums(BandLayout band, Tensor matrix, Tensor k, Tensor v, Tensor shift, out Tensor totals)
    {
        using var scope = NewDisposeScope();
        var x = Stacked(k, v, shift);
        totals = x.sum(1, keepdim: true).MoveToOuterDisposeScope();
        return band.Apply(matrix, x).MoveToOuterDisposeScope();
    }

    /// <summary>w on the band only: [n, b, span], zero outside the band and beyond the sequence.</summary>
    static Tensor BandBias(BandLayout band, Tensor u, Tensor w) =>
        band.BlockFactors(u).bmm(band.WindowFactors(w).transpose(1, 2)).masked_fill_(band.Mask.logical_not(), 0);

    // Non-causal band factors e^{w−ρ} − e^{−ρ}, ρ = max(0, row max of w): [n, b, span] with e^{w−ρ} and ρ.
    static (Tensor Matrix, Tensor Exponentials, Tensor Rho) Band(Tensor bias)
    {
        var rho = bias.amax([2], keepdim: true).clamp_min_(0);                            // masked entries are 0
        var exponentials = (bias - rho).exp_();
        var matrix = exponentials - rho.neg().exp();
        return (matrix, exponentials, rho);
    }

    // Causal band factors with the column shift s_t' (per batch): e^{w+s−ρ} − e^{s−ρ} on the band, 0 elsewhere.
    static (Tensor Matrix, Tensor Exponentials, Tensor Rho) CausalBand(BandLayout band, Tensor bias, Tensor shift)
    {
        var columns = band.Windows(shift).transpose(2, 3);                                // [B, n, 1, span]
        var outside = band.Mask.logical_not().logical_or(band.SourceOutside.unsqueeze(1));    // [n, b, span]
        var withBias = (bias.unsqueeze(0) + columns).masked_fill_(outside, double.NegativeInfinity);
        var without = columns.expand_as(withBias).masked_fill(outside, double.NegativeInfinity);
        var rho = maximum(withBias.amax([3], keepdim: true), without.amax([3], keepdim: true));  // [B, n, b, 1]
        rho.masked_fill_(rho.isneginf(), 0);            // padding rows past the end see no source at all
        var exponentials = withBias.sub_(rho).exp_();
        return (exponentials - without.sub(rho).exp_(), exponentials, rho);
    }

    /// <summary>Rows of w for the exact path: U[t]·W[:T]ᵀ inside the window, 0 outside.</summary>
    internal static Tensor LocalBiasRows(Tensor targets, long length, IReadOnlyList<Tensor> factors, long window)
    {
        var full = factors[0].index_select(0, targets).matmul(factors[1].narrow(0, 0, length).t());
        var distance = (arange(length, device: targets.device).unsqueeze(0) - targets.unsqueeze(1)).abs();
        return full.masked_fill(distance >= window, 0);
    }
}
