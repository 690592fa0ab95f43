using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// The exact, row-at-a-time form of AFT with pair-wise biases: for each target (b, t) the weights
/// softmax_t'(K[b, t'] + w[t, t']) are formed with a log-sum-exp shift of their own. It costs
/// O(T·H) memory per row, so kernels use it only for the rows whose fast-path denominator underflowed.
/// </summary>
public static class AftExactRows
{
    // Rows are recomputed in groups small enough that a group's [rows, T, H] scores stay near 64 MB.
    const long ElementsPerGroup = 1L << 24;

    /// <summary>
    /// Below this a denominator has lost precision to underflow: tiny/eps keeps every term that the
    /// sum drops below one unit in the last place (1e-31 in float32, 1e-292 in float64).
    /// </summary>
    public static double UnderflowThreshold(ScalarType dtype)
    {
        var info = finfo(dtype);
        return info.tiny / info.eps;
    }

    /// <summary>
    /// Returns <paramref name="ratio"/> (<c>[B, T, H]</c>, the normalised sums) with every (b, t) row
    /// that has a flagged channel in <paramref name="underflow"/> replaced by its exact value.
    /// </summary>
    public static Tensor Repair(Tensor ratio, Tensor underflow, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var rows = underflow.any(2).nonzero();                 // [n, 2]: (b, t)
        if (rows.shape[0] == 0)
            return ratio.alias().MoveToOuterDisposeScope();

        var repaired = ratio.clone();
        var (length, hidden) = (k.shape[1], k.shape[2]);
        var group = Math.Max(1, ElementsPerGroup / (length * hidden));
        for (long start = 0; start < rows.shape[0]; start += group)
        {
            var chunk = rows.narrow(0, start, Math.Min(group, rows.shape[0] - start));
            var (b, t) = (chunk.select(1, 0), chunk.select(1, 1));
            repaired.index_put_(Rows(b, t, k, v, w, causal), b, t);
        }
        return repaired.MoveToOuterDisposeScope();
    }

    /// <summary>Exact normalised sums for the targets (b[i], t[i]): <c>[n, H]</c>.</summary>
    public static Tensor Rows(Tensor b, Tensor t, Tensor k, Tensor v, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var scores = w.index_select(0, t).unsqueeze(2) + k.index_select(0, b);     // [n, T, H]
        if (causal)
        {
            var future = arange(k.shape[1], device: k.device).unsqueeze(0) > t.unsqueeze(1);
            scores = scores.masked_fill(future.unsqueeze(2), double.NegativeInfinity);
        }
        var weights = scores.softmax(1);
        return (weights * v.index_select(0, b)).sum(1).MoveToOuterDisposeScope();
    }
}
