using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// Builds the bias rows w[t, :] for the targets <c>t</c> from the bias parameters: <c>[n, T]</c> when every
/// channel shares the biases, or <c>[n, T, heads]</c> with one bias per head (AFT-conv).
/// </summary>
public delegate Tensor BiasRows(Tensor targets, long length, IReadOnlyList<Tensor> parameters);

/// <summary>
/// The exact, row-at-a-time form of AFT with pair-wise biases: for each target (b, t) the weights
/// softmax_t'(K[b, t'] + w[t, t']) get a log-sum-exp shift of their own. It costs O(T·H) memory per
/// row, so the fused kernels use it only for the rows whose fast-path denominator underflowed or
/// cancelled, in forward (<see cref="Repair"/>) and backward (<see cref="AddGradients"/>).
/// </summary>
public static class ExactRows
{
    // Rows are handled in groups small enough that a group's [rows, T, H] scores stay near 64 MB.
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

    /// <summary>The (b, t) rows, <c>[n, 2]</c>, that have at least one flagged channel in <paramref name="flags"/> <c>[B, T, H]</c>.</summary>
    public static Tensor Flagged(Tensor flags) => flags.any(2).nonzero();

    /// <summary>Writes the exact value of every row in <paramref name="rows"/> into <paramref name="ratio"/> <c>[B, T, H]</c>.</summary>
    public static void Repair(Tensor ratio, Tensor rows, Tensor k, Tensor v, BiasRows bias, IReadOnlyList<Tensor> parameters, bool causal)
    {
        foreach (var (b, t) in Groups(rows, v))
        {
            using var scope = NewDisposeScope();
            ratio.index_put_(Rows(b, t, k, v, bias, parameters, causal), b, t);
        }
    }

    /// <summary>
    /// Adds the gradients of the repaired rows, for the row gradients <paramref name="upstream"/> (<c>[B, T, H]</c>,
    /// read at the repaired rows only), by autograd through the exact row form.
    /// </summary>
    public static void AddGradients(Tensor rows, Tensor upstream, Tensor k, Tensor v, BiasRows bias, IReadOnlyList<Tensor> parameters, bool causal,
        Tensor dk, Tensor dv, IReadOnlyList<Tensor> dParameters)
    {
        foreach (var (b, t) in Groups(rows, v))
        {
            using var scope = NewDisposeScope();
            using var grad = enable_grad();
            var leaves = new[] { k, v }.Concat(parameters).Select(x => x.detach().requires_grad_()).ToArray();
            var exact = Rows(b, t, leaves[0], leaves[1], bias, leaves.Skip(2).ToArray(), causal);
            var grads = autograd.grad([exact], leaves, [upstream.index([b, t])], allow_unused: true);
            dk.add_(grads[0]);
            dv.add_(grads[1]);
            for (var i = 0; i < dParameters.Count; i++)
                if (grads[i + 2] is { IsInvalid: false } g) dParameters[i].add_(g);
        }
    }

    /// <summary>
    /// Exact normalised sums for the targets (b[i], t[i]): <c>[n, H]</c>. <paramref name="k"/> is <c>[B, T, heads]</c>
    /// with heads = H (one key per channel) or a divisor of H (one key per head of H/heads channels).
    /// </summary>
    public static Tensor Rows(Tensor b, Tensor t, Tensor k, Tensor v, BiasRows bias, IReadOnlyList<Tensor> parameters, bool causal)
    {
        using var scope = NewDisposeScope();
        var (length, heads, hidden) = (k.shape[1], k.shape[2], v.shape[2]);
        var rows = bias(t, length, parameters);
        var scores = (rows.dim() == 2 ? rows.unsqueeze(2) : rows) + k.index_select(0, b);  // [n, T, heads]
        var values = v.index_select(0, b).view(-1, length, heads, hidden / heads);
        if (causal)
        {
            // Later values are masked too: their zero weight times a NaN or infinity would still be NaN.
            var future = arange(length, device: k.device).unsqueeze(0) > t.unsqueeze(1);
            scores = scores.masked_fill(future.unsqueeze(2), double.NegativeInfinity);
            values = values.masked_fill(future.unsqueeze(2).unsqueeze(3), 0);
        }
        return (scores.softmax(1).unsqueeze(3) * values).sum(1).view(-1, hidden).MoveToOuterDisposeScope();
    }

    static IEnumerable<(Tensor B, Tensor T)> Groups(Tensor rows, Tensor v)
    {
        var group = Math.Max(1, ElementsPerGroup / (v.shape[1] * v.shape[2]));
        for (long start = 0; start < rows.shape[0]; start += group)
        {
            var chunk = rows.narrow(0, start, Math.Min(group, rows.shape[0] - start));
            yield return (chunk.select(1, 0), chunk.select(1, 1));
        }
    }
}
