using System.Numerics;
using System.Numerics.Tensors;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// The element-wise passes of <see cref="AftFullCpu"/> around its libtorch matrix products, each one pass over
/// its rows, in parallel over fixed rows. Rows of 2H channels [P ⊙ V | P], [∂A | ∂D] and M are contiguous in
/// both layouts: <c>[B, T, 2H]</c> (causal: per-batch products) or <c>[T, B, 2H]</c> (non-causal: one product for
/// the whole batch), row <see cref="Row"/>(b, t).
/// </summary>
internal static unsafe class AftFullCpuPasses<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    /// <summary>The row of (b, t) in the stacked layout.</summary>
    public static long Row(bool causal, long batch, long length, long b, long t) => causal ? b * length + t : t * batch + b;

    /// <summary>
    /// X = [P ⊙ V | P]. Causal, P = e^{K − s_t} with s_t the max over the position's own channels (written to
    /// <paramref name="shift"/> <c>[B, T]</c> when <paramref name="store"/>); non-causal, P = e^{K − m} with m the
    /// max over time per (batch, channel) (<paramref name="shift"/> <c>[B, H]</c>).
    /// </summary>
    public static void Stack(bool causal, bool store, T* k, T* v, T* shift, T* x, int batch, int length, int hidden)
    {
        if (!causal && store)
            ConvFullThreads.For(batch, b =>
            {
                var m = new Span<T>(shift + b * hidden, hidden);
                m.Fill(T.NegativeInfinity);
                for (long t = 0; t < length; t++)
                    TensorPrimitives.Max(m, new ReadOnlySpan<T>(k + (b * length + t) * hidden, hidden), m);
            });
        ForPositions(batch, length, (b, t) =>
        {
            var position = b * length + t;
            var keys = new ReadOnlySpan<T>(k + position * hidden, hidden);
            var row = x + Row(causal, batch, length, b, t) * 2 * hidden;
            var p = new Span<T>(row + hidden, hidden);
            if (causal)
            {
                if (store) shift[position] = TensorPrimitives.Max(keys);
                TensorPrimitives.Subtract(keys, shift[position], p);
            }
            else
                TensorPrimitives.Subtract(keys, new ReadOnlySpan<T>(shift + b * hidden, hidden), p);
            TensorPrimitives.Exp(p, p);
            TensorPrimitives.Multiply(p, new ReadOnlySpan<T>(v + position * hidden, hidden), new Span<T>(row, hidden));
        });
    }

    /// <summary>
    /// E rows of one chunk, in place over <paramref name="scores"/> (<c>[rows, columns]</c>, the biases U·Wᵀ):
    /// causal, e^{w + s_t' − ρ_t} on the visible columns t' ≤ t and 0 on the rest; non-causal, e^{w − ρ_t}.
    /// ρ_t is the row's max over its visible columns, stored (forward) or read back (backward, so E is rebuilt bit for bit).
    /// </summary>
    public static void Exponentials(bool causal, bool store, T* scores, T* e, int rows, int columns, long first, T* columnShift, T* rowShift)
    {
        ConvFullThreads.For(rows, i =>
        {
            var t = first + i;
            var visible = causal ? (int)(t + 1) : columns;
            var source = new ReadOnlySpan<T>(scores + i * columns, visible);
            var row = new Span<T>(e + i * columns, columns);
            var exponents = row[..visible];
            if (causal) TensorPrimitives.Add(source, new ReadOnlySpan<T>(columnShift, visible), exponents);
            else source.CopyTo(exponents);
            if (store) rowShift[t] = TensorPrimitives.Max(exponents);
            TensorPrimitives.Subtract(exponents, rowShift[t], exponents);
            TensorPrimitives.Exp(exponents, exponents);
            row[visible..].Clear();
        });
    }

    /// <summary>
    /// E for a block of source columns (from <paramref name="columnStart"/>) against the targets from
    /// <paramref name="rowStart"/>, rebuilt from the forward's row shifts: e^{w (+ s_t') − ρ_t}, 0 where t' &gt; t (causal).
    /// </summary>
    public static void ColumnExponentials(bool causal, T* scores, T* e, int rows, int columns, long rowStart, long columnStart, T* columnShift, T* rowShift)
    {
        ConvFullThreads.For(rows, i =>
        {
            var t = rowStart + i;
            var visible = causal ? (int)Math.Min(columns, t - columnStart + 1) : columns;
            var row = new Span<T>(e + i * columns, columns);
            var exponents = row[..visible];
            var source = new ReadOnlySpan<T>(scores + i * columns, visible);
            if (causal) TensorPrimitives.Add(source, new ReadOnlySpan<T>(columnShift + columnStart, visible), exponents);
            else if (scores != e) source.CopyTo(exponents);
            TensorPrimitives.Subtract(exponents, rowShift[t], exponents);
            TensorPrimitives.Exp(exponents, exponents);
            row[visible..].Clear();
        });
    }

    /// <summary>
    /// Causal rows of one chunk (first row <paramref name="first"/>): <paramref name="sums"/>, E·X over the columns
    /// before each row's strip of <paramref name="strip"/> rows, plus the strip's own columns t' ≤ t summed here term
    /// by term, so that no later position's value meets a zero weight (0 · NaN); then ratio = A / D and D.
    /// </summary>
    public static void CausalRows(T* e, int columns, long first, int strip, int rows, T* sums, T* x, T* ratio, T* denominator, int hidden)
    {
        var width = 2 * hidden;
        ConvFullThreads.For(rows, i =>
        {
            var acc = sums + i * width;
            var weights = e + i * columns;
            for (var t = first + i / strip * strip; t <= first + i; t++)
                ChannelLoops.AddScaled(acc, x + t * width, weights[t], width);
            Divide(acc, ratio + (first + i) * hidden, denominator + (first + i) * hidden, hidden);
        });
    }

    /// <summary>Non-causal rows of one chunk: ratio and D from <paramref name="sums"/> <c>[rows, B, 2H]</c>.</summary>
    public static void Rows(T* sums, long first, int rows, int batch, int length, T* ratio, T* denominator, int hidden)
    {
        ConvFullThreads.For((long)rows * batch, item =>
        {
            var (i, b) = (item / batch, item % batch);
            var position = b * length + first + i;
            Divide(sums + item * 2 * hidden, ratio + position * hidden, denominator + position * hidden, hidden);
        });
    }

    static void Divide(T* sums, T* ratio, T* denominator, int hidden)
    {
        var d = new ReadOnlySpan<T>(sums + hidden, hidden);
        d.CopyTo(new Span<T>(denominator, hidden));
        TensorPrimitives.Divide(new ReadOnlySpan<T>(sums, hidden), d, new Span<T>(ratio, hidden));
    }

    /// <summary>
    /// ∂Q = G ⊙ R ⊙ σ(Q)(1 − σ(Q)) and the upstream rows [S / D | −S ⊙ R / D], S = G ⊙ σ(Q), zero on the rows
    /// flagged in <paramref name="repaired"/> (the exact path's gradients replace theirs).
    /// </summary>
    public static void Gradients(bool causal, T* grad, T* q, T* ratio, T* denominator, T* dq, T* upstream, bool[] repaired, int batch, int length, int hidden)
    {
        ForPositions(batch, length, (b, t) =>
        {
            var position = b * length + t;
            var row = upstream + Row(causal, batch, length, b, t) * 2 * hidden;
            T* g = grad + position * hidden, r = ratio + position * hidden, d = denominator + position * hidden, gate = dq + position * hidden;
            TensorPrimitives.Sigmoid(new ReadOnlySpan<T>(q + position * hidden, hidden), new Span<T>(gate, hidden));
            var i = 0;
            if (Vector.IsHardwareAccelerated)
                for (; i <= hidden - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var sigma = Vector.Load(gate + i);
                    var s = Vector.Load(g + i) * sigma;
                    var ratioV = Vector.Load(r + i);
                    var h = s / Vector.Load(d + i);
                    (s * ratioV * (Vector<T>.One - sigma)).Store(gate + i);
                    h.Store(row + i);
                    (-(h * ratioV)).Store(row + hidden + i);
                }
            for (; i < hidden; i++)
            {
                var sigma = gate[i];
                var s = g[i] * sigma;
                var h = s / d[i];
                gate[i] = s * r[i] * (T.One - sigma);
                row[i] = h;
                row[hidden + i] = -(h * r[i]);
            }
            if (repaired[position]) ChannelLoops.Clear(row, 2 * hidden);
        });
    }

    /// <summary>∂V = P ⊙ M_A and ∂K = (P ⊙ V) ⊙ M_A + P ⊙ M_D from the rows X and M.</summary>
    public static void KeyValueGradients(bool causal, T* x, T* m, T* dk, T* dv, int batch, int length, int hidden)
    {
        ForPositions(batch, length, (b, t) =>
        {
            var position = b * length + t;
            var offset = Row(causal, batch, length, b, t) * 2 * hidden;
            ReadOnlySpan<T> xA = new(x + offset, hidden), p = new(x + offset + hidden, hidden);
            ReadOnlySpan<T> mA = new(m + offset, hidden), mD = new(m + offset + hidden, hidden);
            var key = new Span<T>(dk + position * hidden, hidden);
            TensorPrimitives.Multiply(p, mA, new Span<T>(dv + position * hidden, hidden));
            TensorPrimitives.Multiply(xA, mA, key);
            TensorPrimitives.FusedMultiplyAdd(p, mD, key, key);
        });
    }

    /// <summary>y = σ(q) ⊙ ratio, one position per span (a vector never mixes positions).</summary>
    public static void Gate(T* q, T* ratio, T* y, int batch, int length, int hidden) =>
        ForPositions(batch, length, (b, t) => ConvFullGates<T>.Gate(q + (b * length + t) * hidden, ratio + (b * length + t) * hidden, y + (b * length + t) * hidden, 1, hidden));

    /// <summary>products ⊙= e row by row, in parallel over fixed rows; the result is also added to <paramref name="accumulate"/> where given.</summary>
    public static void MultiplyRows(T* products, T* e, int rows, int columns, T* accumulate)
    {
        ConvFullThreads.For(rows, i =>
        {
            var row = new Span<T>(products + i * columns, columns);
            TensorPrimitives.Multiply(row, new ReadOnlySpan<T>(e + i * columns, columns), row);
            if (accumulate is not null)
            {
                var total = new Span<T>(accumulate + i * columns, columns);
                TensorPrimitives.Add(total, row, total);
            }
        });
    }

    static void ForPositions(int batch, int length, Action<long, long> body)
    {
        const int chunk = 32;
        var chunks = (length + chunk - 1) / chunk;
        ConvFullThreads.For((long)batch * chunks, item =>
        {
            var (b, first) = (item / chunks, item % chunks * chunk);
            var end = Math.Min(length, first + chunk);
            for (var t = first; t < end; t++) body(b, t);
        });
    }
}
