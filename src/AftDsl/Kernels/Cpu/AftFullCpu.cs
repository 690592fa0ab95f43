using System.Numerics;
using AftDsl.Native;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// AFT-full (paper Eq. 2, w = U·Wᵀ) on the CPU: the same algebra, shifts, saved state and gradients as
/// <see cref="AftFullOperators"/>, the exp(w)-tile products done by libtorch matmul on contiguous tiles and every
/// element-wise pass around them done in one C# pass (<see cref="AftFullCpuPasses{T}"/>): E = e^{w (+ s_t') − ρ_t}
/// built straight from the bias tile with its row max, X = [P ⊙ V | P] built once, the division and the gate.
/// Forward: blocks of target rows; causal, blocks right of the diagonal are never touched and inside the diagonal
/// block no product covers a future source (strips of rows, each strip's triangle summed term by term), so a NaN
/// or inf at t' reaches no earlier row. Backward: blocks of source columns, so that M = Eᵀ·[∂A | ∂D] is one product
/// with a long inner dimension per block. Rows whose denominator underflows are recomputed exactly
/// (<see cref="ExactRows"/>).
/// </summary>
internal static class AftFullCpu
{
    const string CausalKey = "aft-full-cpu-causal";
    const int Block = 256, Strip = 32;

    /// <summary>Same contract as <see cref="AftFullOperators.Forward"/>.</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, bool causal)
    {
        using var scope = NewDisposeScope();
        var (batch, length, hidden) = Sizes(q, k, v, u, w);
        var dtype = q.dtype;
        var (qc, kc, vc) = (q.contiguous(), k.contiguous(), v.contiguous());
        var (ut, wt) = (u.narrow(0, 0, length).contiguous(), w.narrow(0, 0, length).contiguous());
        var x = empty(causal ? [batch, length, 2 * hidden] : [length, batch, 2 * hidden], dtype: dtype);
        var columnShift = empty(causal ? [batch, length] : [batch, hidden], dtype: dtype);
        var rowShift = empty(causal ? [batch, length] : [length], dtype: dtype);
        var ratio = empty([batch, length, hidden], dtype: dtype);
        var denominator = empty([batch, length, hidden], dtype: dtype);
        if (dtype == ScalarType.Float32) Stack<float>(causal, store: true, kc, vc, columnShift, x);
        else Stack<double>(causal, store: true, kc, vc, columnShift, x);

        if (causal)
        {
            var tile = empty([(long)Block * length], dtype: dtype);
            for (long first = 0; first < length; first += Block)
            {
                using var step = NewDisposeScope();
                var rows = Math.Min(Block, length - first);
                var columns = first + rows;
                var scores = ut.narrow(0, first, rows).mm(wt.narrow(0, 0, columns).t());
                for (long b = 0; b < batch; b++)
                {
                    using var perBatch = NewDisposeScope();
                    var e = tile.narrow(0, 0, rows * columns).view(rows, columns);
                    var xb = x.select(0, b);
                    Exponentials(causal, store: true, scores, e, first, columnShift.select(0, b), rowShift.select(0, b));
                    // Never a product over a future source (0 · NaN would reach the past): the block's past columns
                    // in one product, each strip of Strip rows adds the block's columns before it, and its own
                    // triangle is summed term by term. The same structure whatever the values: bit-identical.
                    var sums = first > 0 ? e.narrow(1, 0, first).mm(xb.narrow(0, 0, first)) : zeros([rows, 2 * hidden], dtype: dtype);
                    for (long strip = Strip; strip < rows; strip += Strip)
                        sums.narrow(0, strip, Math.Min(Strip, rows - strip)).addmm_(
                            e.narrow(0, strip, Math.Min(Strip, rows - strip)).narrow(1, first, strip), xb.narrow(0, first, strip));
                    SumCausalRows(e, first, sums, xb, ratio.select(0, b), denominator.select(0, b));
                }
            }
        }
        else
        {
            var flat = x.view(length, batch * 2 * hidden);
            for (long first = 0; first < length; first += Block)
            {
                using var step = NewDisposeScope();
                var rows = Math.Min(Block, length - first);
                var e = ut.narrow(0, first, rows).mm(wt.t());
                Exponentials(causal, store: true, e, e, first, columnShift, rowShift);
                NonCausalRows(e.mm(flat), first, batch, ratio, denominator);
            }
        }

        Tensor repaired;
        using (var flags = denominator < ExactRows.UnderflowThreshold(dtype))
            repaired = ExactRows.Flagged(flags);
        ExactRows.Repair(ratio, repaired, k, v, Bias, [u, w], causal);
        var y = empty(q.shape, dtype: dtype);
        if (dtype == ScalarType.Float32) Gate<float>(qc, ratio, y);
        else Gate<double>(qc, ratio, y);

        ctx.save_data(CausalKey, causal);
        SavedTensors.Save(ctx, inputs: [q, k, v, u, w], created: [ratio, denominator, columnShift, rowShift, repaired]);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, u, w (in that order), as <see cref="AftFullOperators.Backward"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, u, w) = (saved[0].contiguous(), saved[1].contiguous(), saved[2].contiguous(), saved[3], saved[4]);
        var (ratio, denominator, columnShift, rowShift, repaired) = (saved[5], saved[6], saved[7], saved[8], saved[9]);
        var (batch, length, hidden) = Sizes(q, k, v, u, w);
        var dtype = q.dtype;
        var (ut, wt) = (u.narrow(0, 0, length).contiguous(), w.narrow(0, 0, length).contiguous());
        var upstreamGrad = grad.to(dtype).contiguous();
        long[] stacked = causal ? [batch, length, 2 * hidden] : [length, batch, 2 * hidden];
        var (dq, upstream, x) = (empty(q.shape, dtype: dtype), empty(stacked, dtype: dtype), empty(stacked, dtype: dtype));
        var flagged = new bool[batch * length];
        if (repaired.shape[0] > 0)
            foreach (var row in repaired.data<long>().Chunk(2)) flagged[row[0] * length + row[1]] = true;
        if (dtype == ScalarType.Float32)
        {
            Gradients<float>(causal, upstreamGrad, q, ratio, denominator, dq, upstream, flagged);
            Stack<float>(causal, store: false, k, v, columnShift, x);
        }
        else
        {
            Gradients<double>(causal, upstreamGrad, q, ratio, denominator, dq, upstream, flagged);
            Stack<double>(causal, store: false, k, v, columnShift, x);
        }

        // Column blocks: each block of sources gets M = Eᵀ·[∂A | ∂D] in one product over all its targets (a long
        // inner dimension, M written once), and the bias gradient E ⊙ ([∂A | ∂D]·Xᵀ) of its columns.
        var m = empty(stacked, dtype: dtype);
        var (du, dw) = (zeros_like(u), zeros_like(w));
        var (flatX, flatUp, flatM) = (x.view(causal ? batch * length : length, -1), upstream.view(causal ? batch * length : length, -1), m.view(causal ? batch * length : length, -1));
        for (long start = 0; start < length; start += Block)
        {
            using var step = NewDisposeScope();
            var width = Math.Min(Block, length - start);
            var (rowStart, rows) = causal ? (start, length - start) : (0L, (long)length);
            var scores = ut.narrow(0, rowStart, rows).mm(wt.narrow(0, start, width).t());           // [targets, sources]
            Tensor? dBias = null;
            for (long b = 0; b < (causal ? batch : 1); b++)
            {
                var e = causal && batch > 1 ? empty_like(scores) : scores;
                ColumnExponentials(causal, scores, e, rowStart, start, causal ? columnShift.select(0, b) : null, causal ? rowShift.select(0, b) : rowShift);
                var (targets, sources, sums) = causal
                    ? (upstream.select(0, b).narrow(0, rowStart, rows), x.select(0, b).narrow(0, start, width), m.select(0, b).narrow(0, start, width))
                    : (flatUp, flatX.narrow(0, start, width), flatM.narrow(0, start, width));
                sums.addmm_(e.t(), targets, beta: 0, alpha: 1);
                var products = targets.mm(sources.t());
                MultiplyRows(products, e, causal && batch > 1 ? dBias ??= zeros_like(scores) : null);
                if (!causal || batch == 1) dBias = products;
            }
            du.narrow(0, rowStart, rows).addmm_(dBias!, wt.narrow(0, start, width));
            dw.narrow(0, start, width).addmm_(dBias!.t(), ut.narrow(0, rowStart, rows));
        }

        var (dk, dv) = (empty(k.shape, dtype: dtype), empty(v.shape, dtype: dtype));
        if (dtype == ScalarType.Float32) KeyValueGradients<float>(causal, x, m, dk, dv);
        else KeyValueGradients<double>(causal, x, m, dk, dv);
        if (repaired.shape[0] > 0)
            ExactRows.AddGradients(repaired, upstreamGrad * q.sigmoid(), k, v, Bias, [u, w], causal, dk, dv, [du, dw]);
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(),
                du.MoveToOuterDisposeScope(), dw.MoveToOuterDisposeScope()];
    }

    /// <summary>The bias rows U[t]·W[:T]ᵀ, for the exact-row path.</summary>
    static Tensor Bias(Tensor targets, long length, IReadOnlyList<Tensor> factors) =>
        factors[0].index_select(0, targets).matmul(factors[1].narrow(0, 0, length).t());

    static (int Batch, int Length, int Hidden) Sizes(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w)
    {
        if (q.dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"The AFT-full CPU kernel takes float32 or float64 tensors; got {q.dtype}.", nameof(q));
        foreach (var (tensor, name) in new[] { (k, "k"), (v, "v"), (u, "u"), (w, "w") })
            if (tensor.dtype != q.dtype)
                throw new ArgumentException($"AFT-full: {name} is {tensor.dtype} but q is {q.dtype}.", name);
        if (q.dim() != 3 || !q.shape.SequenceEqual(k.shape) || !q.shape.SequenceEqual(v.shape) || u.dim() != 2 || !u.shape.SequenceEqual(w.shape) || u.shape[0] < q.shape[1])
            throw new ArgumentException($"AFT-full takes q, k, v [B, T, H] and u, w [maxLength ≥ T, rank]; got q {ShapeGuard.Describe(q.shape)}, " +
                $"k {ShapeGuard.Describe(k.shape)}, v {ShapeGuard.Describe(v.shape)}, u {ShapeGuard.Describe(u.shape)}, w {ShapeGuard.Describe(w.shape)}.");
        return ((int)q.shape[0], (int)q.shape[1], (int)q.shape[2]);
    }

    static unsafe T* P<T>(Tensor tensor, string name) where T : unmanaged => TensorMemory.Pointer<T>(tensor, name);

    static unsafe void Stack<T>(bool causal, bool store, Tensor k, Tensor v, Tensor shift, Tensor x) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        AftFullCpuPasses<T>.Stack(causal, store, P<T>(k, "k"), P<T>(v, "v"), P<T>(shift, "shift"), P<T>(x, "x"), (int)k.shape[0], (int)k.shape[1], (int)k.shape[2]);
        GC.KeepAlive(k); GC.KeepAlive(v); GC.KeepAlive(shift); GC.KeepAlive(x);
    }

    static unsafe void Exponentials(bool causal, bool store, Tensor scores, Tensor e, long first, Tensor columnShift, Tensor rowShift)
    {
        if (scores.dtype == ScalarType.Float32) Run<float>();
        else Run<double>();
        GC.KeepAlive(scores); GC.KeepAlive(e); GC.KeepAlive(columnShift); GC.KeepAlive(rowShift);

        void Run<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            AftFullCpuPasses<T>.Exponentials(causal, store, P<T>(scores, "scores"), P<T>(e, "e"), (int)e.shape[0], (int)e.shape[1], first,
                causal ? P<T>(columnShift, "columnShift") : null, P<T>(rowShift, "rowShift"));
    }

    static unsafe void ColumnExponentials(bool causal, Tensor scores, Tensor e, long rowStart, long columnStart, Tensor? columnShift, Tensor rowShift)
    {
        if (scores.dtype == ScalarType.Float32) Run<float>();
        else Run<double>();
        GC.KeepAlive(scores); GC.KeepAlive(e); GC.KeepAlive(columnShift); GC.KeepAlive(rowShift);

        void Run<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            AftFullCpuPasses<T>.ColumnExponentials(causal, P<T>(scores, "scores"), P<T>(e, "e"), (int)e.shape[0], (int)e.shape[1], rowStart, columnStart,
                columnShift is null ? null : P<T>(columnShift, "columnShift"), P<T>(rowShift, "rowShift"));
    }

    static unsafe void SumCausalRows(Tensor e, long first, Tensor sums, Tensor xb, Tensor ratio, Tensor denominator)
    {
        if (e.dtype == ScalarType.Float32) Run<float>();
        else Run<double>();
        GC.KeepAlive(e); GC.KeepAlive(sums); GC.KeepAlive(xb); GC.KeepAlive(ratio); GC.KeepAlive(denominator);

        void Run<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            AftFullCpuPasses<T>.CausalRows(P<T>(e, "e"), (int)e.shape[1], first, Strip, (int)e.shape[0], P<T>(sums, "sums"),
                P<T>(xb, "x"), P<T>(ratio, "ratio"), P<T>(denominator, "denominator"), (int)ratio.shape[1]);
    }

    static unsafe void NonCausalRows(Tensor sums, long first, int batch, Tensor ratio, Tensor denominator)
    {
        if (sums.dtype == ScalarType.Float32) Run<float>();
        else Run<double>();
        GC.KeepAlive(sums); GC.KeepAlive(ratio); GC.KeepAlive(denominator);

        void Run<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            AftFullCpuPasses<T>.Rows(P<T>(sums, "sums"), first, (int)sums.shape[0], batch, (int)ratio.shape[1], P<T>(ratio, "ratio"), P<T>(denominator, "denominator"), (int)ratio.shape[2]);
    }

    static unsafe void Gate<T>(Tensor q, Tensor ratio, Tensor y) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        AftFullCpuPasses<T>.Gate(P<T>(q, "q"), P<T>(ratio, "ratio"), P<T>(y, "y"), (int)q.shape[0], (int)q.shape[1], (int)q.shape[2]);
        GC.KeepAlive(q); GC.KeepAlive(ratio); GC.KeepAlive(y);
    }

    static unsafe void Gradients<T>(bool causal, Tensor grad, Tensor q, Tensor ratio, Tensor denominator, Tensor dq, Tensor upstream, bool[] repaired)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        AftFullCpuPasses<T>.Gradients(causal, P<T>(grad, "grad"), P<T>(q, "q"), P<T>(ratio, "ratio"), P<T>(denominator, "denominator"),
            P<T>(dq, "dq"), P<T>(upstream, "upstream"), repaired, (int)q.shape[0], (int)q.shape[1], (int)q.shape[2]);
        GC.KeepAlive(grad); GC.KeepAlive(q); GC.KeepAlive(ratio); GC.KeepAlive(denominator); GC.KeepAlive(dq); GC.KeepAlive(upstream);
    }

    static unsafe void MultiplyRows(Tensor products, Tensor e, Tensor? accumulate)
    {
        if (e.dtype == ScalarType.Float32) Run<float>();
        else Run<double>();
        GC.KeepAlive(products); GC.KeepAlive(e); GC.KeepAlive(accumulate);

        void Run<T>() where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
            AftFullCpuPasses<T>.MultiplyRows(P<T>(products, "products"), P<T>(e, "e"), (int)e.shape[0], (int)e.shape[1], accumulate is null ? null : P<T>(accumulate, "dBias"));
    }

    static unsafe void KeyValueGradients<T>(bool causal, Tensor x, Tensor m, Tensor dk, Tensor dv) where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        AftFullCpuPasses<T>.KeyValueGradients(causal, P<T>(x, "x"), P<T>(m, "m"), P<T>(dk, "dk"), P<T>(dv, "dv"), (int)dk.shape[0], (int)dk.shape[1], (int)dk.shape[2]);
        GC.KeepAlive(x); GC.KeepAlive(m); GC.KeepAlive(dk); GC.KeepAlive(dv);
    }
}
