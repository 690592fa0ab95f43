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

    /// <summary>
    /// AFT-conv (Eq. 6) as AFT-local with shared relative biases: per head i, AFT-full over the flattened
    /// positions with w_i[t, t'] = the kernel tap at the offset t' − t ("same" padding; the past only when
    /// causal), 0 outside the kernel. Channels-last: q, v <c>[B, *grid, D]</c>, k <c>[B, *grid, heads]</c>,
    /// w <c>[heads, s]</c> or <c>[heads, s, s]</c>.
    /// </summary>
    public static Tensor Conv(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var (batch, heads, width) = (k.shape[0], k.shape[^1], v.shape[^1]);
        var grid = k.shape.Skip(1).Take((int)w.dim() - 1).ToArray();
        var positions = grid.Aggregate(1L, (a, b) => a * b);
        var biases = RelativeBiasMatrix(grid, w, causal);                                    // [heads, P, P]
        var headWidth = width / heads;
        var qf = q.reshape(batch, positions, heads, headWidth);
        var kf = k.reshape(batch, positions, heads);
        var vf = v.reshape(batch, positions, heads, headWidth);
        var outputs = Enumerable.Range(0, (int)heads).Select(i => Full(
            qf.select(2, i), kf.select(2, i).unsqueeze(2).expand(-1, -1, headWidth), vf.select(2, i), biases[i], causal)).ToArray();
        return stack(outputs, 2).reshape(q.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>[heads, P, P]</c>: for each target (row) and source (column) position of the grid, the kernel tap at
    /// their offset, or 0 outside the kernel. A tap j sits at offset j − ⌊(s − 1)/2⌋ (PyTorch's "same"), or
    /// j − (s − 1) when causal.
    /// </summary>
    public static Tensor RelativeBiasMatrix(long[] grid, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var size = w.shape[1];
        var before = causal ? size - 1 : (size - 1) / 2;
        var heads = w.shape[0];
        var positions = grid.Aggregate(1L, (a, b) => a * b);
        var matrix = zeros([heads, positions, positions], dtype: w.dtype, device: w.device);
        var coordinates = Enumerable.Range(0, (int)positions).Select(p => grid.Length == 1 ? new[] { (long)p } : new[] { p / grid[1], p % grid[1] }).ToArray();
        for (var target = 0; target < positions; target++)
            for (var source = 0; source < positions; source++)
            {
                var taps = coordinates[source].Zip(coordinates[target], (s, t) => s - t + before).ToArray();
                if (taps.All(j => j >= 0 && j < size))
                    matrix[.., target, source] = taps.Length == 1 ? w[.., taps[0]] : w[.., taps[0], taps[1]];
            }
        return matrix.MoveToOuterDisposeScope();
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
