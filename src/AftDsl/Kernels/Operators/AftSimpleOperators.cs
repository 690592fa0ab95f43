using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-simple (paper Eq. 5), O(T·d): <c>Y_t = σ(Q_t) ⊙ Σ_t' softmax_t'(K)_t' ⊙ V_t'</c>, the sum running
/// over t' ≤ t in causal mode. Forward and backward are written by hand: the backward needs only Q, K, V
/// and the normalised sums R (plus, causal, their log-denominators), where autograd through the
/// unfused expression keeps every intermediate.
/// </summary>
/// <remarks>
/// Non-causal, R is one context vector per sequence, formed with a per-channel max shift. Causal,
/// R_t = N_t/D_t comes from <see cref="RunningMaxScan"/>, and the backward's sums over t ≥ t' are
/// suffix scans weighted by exp(K_t' − ℓ_t) with ℓ = log D, again at most 1.
/// With S = G ⊙ σ(Q): ∂Q = G ⊙ R ⊙ σ'(Q); ∂V_t' = Σ_t e^{K_t' − ℓ_t} S_t; ∂K_t' = V_t' ⊙ ∂V_t' − Σ_t e^{K_t' − ℓ_t} S_t ⊙ R_t.
/// </remarks>
internal static class AftSimpleOperators
{
    const string CausalKey = "causal";

    /// <summary><paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; returns <c>[B, T, H]</c>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var scope = NewDisposeScope();
        ctx.save_data(CausalKey, causal);
        Tensor ratio, logDenominator;
        if (causal)
        {
            var (max, sums) = RunningMaxScan.Prefix(k, v, null);
            ratio = sums[0].div_(sums[1]);
            logDenominator = sums[1].log_().add_(max);
            max.Dispose();
        }
        else
        {
            // One context vector: R = Σ_t softmax_t(K) V, with log D = logsumexp_t K. In bfloat16, K − log D
            // would keep only ~2 decimal digits (log D ≈ log T + max K): the weights are formed in float32.
            using var wideK = k.to(WideType(k.dtype));
            logDenominator = wideK.logsumexp(1, keepdim: true);
            using var weights = (wideK - logDenominator).exp_();
            ratio = weights.mul_(v).sum(1, keepdim: true).to(k.dtype);
        }
        SavedTensors.Save(ctx, inputs: [q, k, v], created: [ratio, logDenominator]);
        return q.sigmoid().mul_(ratio).MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v (in that order) for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, ratio, logDenominator) = (saved[0], saved[1], saved[2], saved[3], saved[4]);

        var (dq, s) = GateGradients(q, grad, ratio);
        Tensor dv, dk;
        if (causal)
        {
            // Σ_{t ≥ t'} exp(K_t' − ℓ_t) y_t = exp(K_t' + ν_t') Σ exp(−ℓ_t − ν_t') y_t, ν the suffix max of −ℓ.
            var (max, sums) = RunningMaxScan.Suffix(logDenominator.neg(), s, s * ratio);
            s.Dispose();
            var weight = max.add_(k).exp_();
            dv = sums[0].mul_(weight);
            dk = sums[1].mul_(weight).neg_().addcmul_(v, dv, 1);                                 // V ⊙ ∂V − Σ e^{K−ℓ} S R
        }
        else
        {
            using var total = s.sum(1, keepdim: true);
            using var weighted = s.mul_(ratio).sum(1, keepdim: true);                           // Σ_t S R
            using var weights = (k.to(logDenominator.dtype) - logDenominator).exp_();         // softmax_t(K), float32 in bfloat16
            dk = v.mul(total).sub_(weighted).mul_(weights).to(k.dtype);
            dv = weights.mul(total).to(v.dtype);
        }
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope()];
    }

    static ScalarType WideType(ScalarType dtype) => dtype is ScalarType.BFloat16 or ScalarType.Float16 ? ScalarType.Float32 : dtype;

    /// <summary>∂Q = G ⊙ R ⊙ σ(Q)(1 − σ(Q)) and S = G ⊙ σ(Q), with one temporary.</summary>
    internal static (Tensor DQ, Tensor S) GateGradients(Tensor q, Tensor grad, Tensor ratio)
    {
        var gate = q.sigmoid();
        var dq = gate.neg().add_(1).mul_(gate).mul_(grad).mul_(ratio);
        return (dq, gate.mul_(grad));
    }
}
