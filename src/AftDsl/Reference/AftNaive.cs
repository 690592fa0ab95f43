using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Reference;

/// <summary>
/// The paper's equations as written, with broadcasting: every (t, t', channel) weight exp(K_t' + w_t,t')
/// is materialised, B×T×T×H of them. Exact (each row is shifted by its own max, which cancels) and
/// differentiable by autograd, but memory-bound: for tests at small sizes and as a benchmark peer.
/// </summary>
public static class AftNaive
{
    /// <summary>AFT-full (Eq. 2) with biases <paramref name="w"/> <c>[T, T]</c> (row t = target).</summary>
    public static Tensor Full(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var scores = k.unsqueeze(1) + w.unsqueeze(0).unsqueeze(3);                 // [B, T, T', H]
        if (causal)
            scores = scores.masked_fill(Kernels.CausalMask.Future(k.shape[1], k.device).unsqueeze(0).unsqueeze(3), double.NegativeInfinity);
        var weights = scores.softmax(2);
        return (q.sigmoid() * (weights * v.unsqueeze(1)).sum(2)).MoveToOuterDisposeScope();
    }

    /// <summary>AFT-simple (Eq. 5): AFT-full with w = 0.</summary>
    public static Tensor Simple(Tensor q, Tensor k, Tensor v, bool causal)
    {
        using var scope = NewDisposeScope();
        var length = k.shape[1];
        return Full(q, k, v, zeros([length, length], dtype: k.dtype, device: k.device), causal).MoveToOuterDisposeScope();
    }

    /// <summary>AFT-local (Eq. 4): w kept where |t − t'| &lt; <paramref name="window"/>, 0 (not −∞) elsewhere.</summary>
    public static Tensor Local(Tensor q, Tensor k, Tensor v, Tensor w, long window, bool causal)
    {
        using var scope = NewDisposeScope();
        return Full(q, k, v, w * LocalMask(k.shape[1], window, k.device).to(w.dtype), causal).MoveToOuterDisposeScope();
    }

    /// <summary><c>[T, T]</c> boolean, true where |t − t'| &lt; window.</summary>
    public static Tensor LocalMask(long length, long window, Device device)
    {
        using var scope = NewDisposeScope();
        var positions = arange(length, device: device);
        var distance = (positions.unsqueeze(1) - positions.unsqueeze(0)).abs();
        return (distance < window).MoveToOuterDisposeScope();
    }
}
