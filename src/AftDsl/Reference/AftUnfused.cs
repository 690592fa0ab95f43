using AftDsl.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Reference;

/// <summary>
/// AFT in the linear-memory forms a user would write with plain TorchSharp operations, differentiated
/// by autograd, which keeps every intermediate for the backward pass. The fused kernels compute the
/// same expressions with hand-written backward passes; this is the peer they are measured against.
/// </summary>
public static class AftUnfused
{
    /// <summary>
    /// AFT-full in its matmul form (numerator = E·(P⊙V), denominator = E·P, E = exp(w), P = exp(K)), with
    /// the stability shifts of <see cref="AftFullKernel"/>; <paramref name="w"/> is <c>[T, T]</c>.
    /// </summary>
    public static Tensor Full(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        Tensor numerator, denominator;
        var hidden = k.shape[2];
        if (causal)
        {
            var shift = k.amax([2], keepdim: true);
            var p = (k - shift).exp();
            var scores = (w.unsqueeze(0) + shift.transpose(1, 2)).masked_fill(CausalMask.Future(k.shape[1], k.device), double.NegativeInfinity);
            var e = (scores - scores.amax([2], keepdim: true)).exp();
            var sums = e.bmm(cat([p * v, p], 2));
            (numerator, denominator) = (sums.narrow(2, 0, hidden), sums.narrow(2, hidden, hidden));
        }
        else
        {
            var p = (k - k.amax([1], keepdim: true)).exp();
            var e = (w - w.amax([1], keepdim: true)).exp();
            var sums = e.matmul(cat([p * v, p], 2));
            (numerator, denominator) = (sums.narrow(2, 0, hidden), sums.narrow(2, hidden, hidden));
        }
        return (q.sigmoid() * numerator / denominator).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// AFT-simple: softmax over time when non-causal; causal, cumulative sums of exp(K − max K) with one
    /// max per channel over the whole sequence, as public implementations write it (not bit-exact causal).
    /// </summary>
    public static Tensor Simple(Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var scope = NewDisposeScope();
        Tensor ratio;
        if (causal)
        {
            var p = (k - k.amax([1], keepdim: true)).exp();
            ratio = (p * v).cumsum(1) / p.cumsum(1);
        }
        else
        {
            ratio = (k.softmax(1) * v).sum(1, keepdim: true);
        }
        return (q.sigmoid() * ratio).MoveToOuterDisposeScope();
    }
}
