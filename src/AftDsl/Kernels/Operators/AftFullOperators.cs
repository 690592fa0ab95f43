using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-full (paper Eq. 2) with the factorised bias w = U·Wᵀ, fused: forward and backward written by
/// hand in the matmul form, numerator = E·(P⊙V) and denominator = E·P with E = exp(w), P = exp(K),
/// one product with <c>[P⊙V | P]</c> side by side. Nothing of size B×T×T×d is allocated, and only
/// Q, K, V, the normalised sums R and the denominators are kept for the backward pass: E is rebuilt
/// there from U and W, chunk by chunk, so the T×T matrix never exists whole.
/// </summary>
/// <remarks>
/// <para>Backward (aft-math.md), with S = G ⊙ σ(Q), h = S / D and X = [P⊙V | P]:
/// ∂Q = G ⊙ R ⊙ σ'(Q); [∂A | ∂D] = [h | −h ⊙ R]; M = Eᵀ·[∂A | ∂D]; ∂V = P ⊙ M_A; ∂K = P ⊙ (V ⊙ M_A + M_D);
/// ∂w = E ⊙ ([∂A | ∂D]·Xᵀ) summed over the batch; ∂U = ∂w·W, ∂W = ∂wᵀ·U.</para>
/// <para>Stability: non-causal, K is shifted by its per-channel max over time and w by its row max.
/// Causal, shifts must not come from the future: K is shifted per position by its max over channels
/// (that position's own data), the shift moves into column t' of the biases, and each row is shifted
/// by its max over t' ≤ t. Shifts cancel in the ratio, so their gradients are zero. Causal rows are
/// processed in chunks whose future columns are skipped, about half the work of the full product.
/// A row whose denominator still underflows is recomputed exactly (<see cref="ExactRows"/>).</para>
/// </remarks>
internal static class AftFullOperators
{
    const string CausalKey = "causal";

    /// <summary>
    /// <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>: <c>[B, T, H]</c>; <paramref name="u"/>,
    /// <paramref name="w"/>: <c>[maxLength, rank]</c>, of which the first T rows are used.
    /// </summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var (batch, length, hidden) = (k.shape[0], k.shape[1], k.shape[2]);
        var columnShift = k.amax([causal ? 2 : 1], keepdim: true);
        var numerator = empty_like(k);
        var denominator = empty_like(k);
        var rowMax = empty(causal ? [batch, length, 1] : [length, 1], dtype: k.dtype, device: k.device);
        using (NewDisposeScope())
        {
            var x = Stacked(k, v, columnShift, causal);                                       // [P ⊙ V | P], per-batch or flattened
            foreach (var chunk in RowChunks.Of(length, batch, causal, k.device_type))
            {
                using var step = NewDisposeScope();
                var e = Exp(Scores(u, w, columnShift, chunk, length, causal), rowMax, chunk, causal, store: true);
                var sums = Multiply(e, x, batch, hidden, chunk, causal);                          // [B, c, 2H]
                numerator.narrow(1, chunk.Start, chunk.Length).copy_(sums.narrow(2, 0, hidden));
                denominator.narrow(1, chunk.Start, chunk.Length).copy_(sums.narrow(2, hidden, hidden));
            }
        }

        Tensor repaired;
        using (var flags = denominator < ExactRows.UnderflowThreshold(k.dtype))
            repaired = ExactRows.Flagged(flags);
        var ratio = numerator.div_(denominator);                                                   // underflowed rows are overwritten next
        ExactRows.Repair(ratio, repaired, k, v, Bias, [u, w], causal);

        ctx.save_data(CausalKey, causal);
        SavedTensors.Save(ctx, inputs: [q, k, v, u, w], created: [ratio, denominator, columnShift, rowMax, repaired]);
        return q.sigmoid().mul_(ratio).MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, u, w (in that order).</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, u, w) = (saved[0], saved[1], saved[2], saved[3], saved[4]);
        var (ratio, denominator, columnShift, rowMax, repaired) = (saved[5], saved[6], saved[7], saved[8], saved[9]);
        var (batch, length, hidden) = (k.shape[0], k.shape[1], k.shape[2]);

        var (dq, s) = AftSimpleOperators.GateGradients(q, grad, ratio);
        var (du, dw) = (zeros_like(u), zeros_like(w));
        // Eᵀ·[∂A | ∂D]: per batch when causal; non-causal, [T, B·2H], accumulated by addmm without temporaries.
        var m = zeros(causal ? [batch, length, 2 * hidden] : [length, batch * 2 * hidden], dtype: k.dtype, device: k.device);
        using (NewDisposeScope())
        {
            var upstream = Upstream(s, denominator, ratio, repaired);                          // [∂A | ∂D] = [h | −h R], h = S / D
            if (repaired.shape[0] == 0) s.Dispose();
            var x = Stacked(k, v, columnShift, causal);
            foreach (var chunk in RowChunks.Of(length, batch, causal, k.device_type))
            {
                using var step = NewDisposeScope();
                var e = Exp(Scores(u, w, columnShift, chunk, length, causal), rowMax, chunk, causal, store: false);
                var rows = upstream.narrow(1, chunk.Start, chunk.Length);
                var columns = causal ? chunk.Start + chunk.Length : length;
                var dBias = AccumulateTransposed(e, rows, x, m, batch, columns, causal);          // [c, columns]
                du.narrow(0, chunk.Start, chunk.Length).add_(dBias.matmul(w.narrow(0, 0, columns)));
                dw.narrow(0, 0, columns).add_(dBias.t().matmul(u.narrow(0, chunk.Start, chunk.Length)));
            }
        }
        // ∂V = P ⊙ M_A, ∂K = P ⊙ (V ⊙ M_A + M_D).
        if (!causal) m = m.view(length, batch, 2 * hidden).permute(1, 0, 2);
        var p = (k - columnShift).exp_();
        var mA = m.narrow(2, 0, hidden);
        var dk = v.mul(mA).add_(m.narrow(2, hidden, hidden)).mul_(p);
        var dv = p.mul_(mA);
        m.Dispose();
        mA.Dispose();
        if (repaired.shape[0] > 0)
            ExactRows.AddGradients(repaired, s, k, v, Bias, [u, w], causal, dk, dv, [du, dw]);
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(),
                du.MoveToOuterDisposeScope(), dw.MoveToOuterDisposeScope()];
    }

    /// <summary>[h | −h ⊙ R] with h = S / D, zero on the rows the exact path handles: <c>[B, T, 2H]</c>.</summary>
    internal static Tensor Upstream(Tensor s, Tensor denominator, Tensor ratio, Tensor repaired)
    {
        var hidden = s.shape[2];
        var upstream = empty([s.shape[0], s.shape[1], 2 * hidden], dtype: s.dtype, device: s.device);
        var h = upstream.narrow(2, 0, hidden).copy_(s).div_(denominator);
        upstream.narrow(2, hidden, hidden).copy_(h).mul_(ratio).neg_();
        if (repaired.shape[0] > 0)
            upstream.index_put_(zeros(1, dtype: s.dtype, device: s.device), repaired.select(1, 0), repaired.select(1, 1));
        return upstream;
    }

    /// <summary>The bias rows U[t]·W[:T]ᵀ, for the exact-row path.</summary>
    static Tensor Bias(Tensor targets, long length, IReadOnlyList<Tensor> factors) =>
        factors[0].index_select(0, targets).matmul(factors[1].narrow(0, 0, length).t());

    // X = [P ⊙ V | P] with P = exp(K − shift): [B, T, 2H] when causal (per-batch products), and for the
    // non-causal product, whose E is shared by the batch, laid out [T, B·2H] so that one matmul serves all.
    static Tensor Stacked(Tensor k, Tensor v, Tensor shift, bool causal)
    {
        var (batch, length, hidden) = (k.shape[0], k.shape[1], k.shape[2]);
        var x = empty([batch, length, 2 * hidden], dtype: k.dtype, device: k.device);
        var p = x.narrow(2, hidden, hidden).copy_(k).sub_(shift).exp_();
        x.narrow(2, 0, hidden).copy_(v).mul_(p);
        return causal ? x : x.permute(1, 0, 2).reshape(length, batch * 2 * hidden);
    }

    // Biases of the chunk's rows against every column they see: [c, T] non-causal, [B, c, e] causal,
    // where the column shift s_t' enters through one more rank of the factor product,
    // [U | 1]·[W | s]ᵀ, and the future (t' > t, inside the diagonal block only) is masked.
    static Tensor Scores(Tensor u, Tensor w, Tensor columnShift, (long Start, long Length) chunk, long length, bool causal)
    {
        var columns = causal ? chunk.Start + chunk.Length : length;
        var rows = u.narrow(0, chunk.Start, chunk.Length);
        if (!causal)
            return rows.matmul(w.narrow(0, 0, columns).t());
        var batch = columnShift.shape[0];
        var left = cat([rows, ones([chunk.Length, 1], dtype: u.dtype, device: u.device)], 1).expand(batch, -1, -1);
        var right = cat([w.narrow(0, 0, columns).expand(batch, -1, -1), columnShift.narrow(1, 0, columns)], 2);
        var scores = left.bmm(right.transpose(1, 2));
        scores.narrow(2, chunk.Start, chunk.Length).masked_fill_(CausalMask.Future(chunk.Length, u.device), double.NegativeInfinity);
        return scores;
    }

    // exp(scores − row max), in place. Forward stores the row maxima; backward reuses them, so E is rebuilt bit for bit.
    static Tensor Exp(Tensor scores, Tensor rowMax, (long Start, long Length) chunk, bool causal, bool store)
    {
        var slice = rowMax.narrow(causal ? 1 : 0, chunk.Start, chunk.Length);
        if (store) slice.copy_(scores.amax([causal ? 2 : 1], keepdim: true));
        return scores.sub_(slice).exp_();
    }

    // Forward sums of the chunk's rows, E·X: [B, c, 2H].
    static Tensor Multiply(Tensor e, Tensor x, long batch, long hidden, (long Start, long Length) chunk, bool causal) =>
        causal
            ? e.bmm(x.narrow(1, 0, e.shape[2]))
            : e.matmul(x).view(chunk.Length, batch, 2 * hidden).permute(1, 0, 2);

    // Adds Eᵀ·rows into m's first columns and returns ∂bias = E ⊙ (rows·Xᵀ), summed over the batch.
    static Tensor AccumulateTransposed(Tensor e, Tensor rows, Tensor x, Tensor m, long batch, long columns, bool causal)
    {
        if (causal)
        {
            var visible = x.narrow(1, 0, columns);
            m.narrow(1, 0, columns).add_(e.transpose(1, 2).bmm(rows));
            var products = rows.bmm(visible.transpose(1, 2)).mul_(e);
            return products.shape[0] == 1 ? products.squeeze(0) : products.sum(dim: 0);
        }
        var flatRows = rows.permute(1, 0, 2).reshape(rows.shape[1], m.shape[1]);             // [c, B·2H]
        m.addmm_(e.t(), flatRows, 1, 1);
        return flatRows.matmul(x.t()).mul_(e);
    }
}
