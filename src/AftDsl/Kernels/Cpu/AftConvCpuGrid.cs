using System.Numerics;

namespace AftDsl.Kernels.Cpu;

/// <summary>
/// Non-causal AFT-conv on the CPU (sequences and 2-d grids). With m the max of each (batch, head)'s keys
/// and ρ = max(0, max w) per head, P = e^{K − m} and X = [P ⊙ V | P]:
/// A_t | D_t = Σ_{window} e^{w_tap − ρ} X_t' + e^{−ρ} Σ_{outside} X_t', every term at most 1, the window
/// summed directly and the outside from <see cref="AftConvCpuOutside{T}"/>. The backward is the same
/// sum over the transposed window applied to the upstream rows [∂A | ∂D], with ∂w taken in the same loop.
/// Work items are (batch, row, block of columns), fixed by the sizes alone. Window connectivity builds no
/// outside sums and takes ρ = max w (no e^{−ρ} term to bound).
/// </summary>
internal static unsafe class AftConvCpuGrid<T> where T : unmanaged, IBinaryFloatingPointIeee754<T>
{
    const int ColumnBlock = 32;

    /// <summary>Forward: y, the ratio A / D, D (per position and head) and m (per batch and head).</summary>
    public static void Forward(AftConvCpuShape s, T* q, T* k, T* v, T* w, T* y, T* ratio, T* denominator, T* shift)
    {
        using var coefficients = new ConvFullScratch<T>((long)(s.Taps + 1) * s.Stacked);
        Biases(s, w, coefficients.Pointer);
        KeyMax(s, k, shift);
        using var x = new ConvFullScratch<T>((long)s.Batch * s.Positions * s.Stacked);
        Stack(s, k, v, shift, x.Pointer);
        using var outside = s.WindowOnly ? null : new AftConvCpuOutside<T>(x.Pointer, s);
        T* e = coefficients.Pointer, xs = x.Pointer;

        var blocks = (s.Columns + ColumnBlock - 1) / ColumnBlock;
        ConvFullThreads.For((long)s.Batch * s.Rows * blocks, item =>
        {
            var (b, r, c0, c1) = Item(s, item, blocks);
            using var accumulator = new ConvFullScratch<T>(s.Stacked);
            var acc = accumulator.Pointer;
            for (var c = c0; c < c1; c++)
            {
                Window(s, outside, e, xs, acc, b, r, c, transposed: false);
                var p = b * s.Positions + (long)r * s.Columns + c;
                for (var h = 0; h < s.Heads; h++)
                {
                    var d = acc[s.Width + h];
                    ChannelLoops.Scaled(ratio + p * s.Width + h * s.HeadWidth, acc + h * s.HeadWidth, T.One / d, s.HeadWidth);
                    denominator[p * s.Heads + h] = d;
                }
            }
            var first = (b * s.Positions + (long)r * s.Columns + c0) * s.Width;
            ConvFullGates<T>.Gate(q + first, ratio + first, y + first, c1 - c0, s.Width);
        });
    }

    /// <summary>Backward: ∂q, ∂k, ∂v, and ∂w summed over the batch and positions.</summary>
    public static void Backward(AftConvCpuShape s, T* grad, T* q, T* k, T* v, T* w, T* ratio, T* denominator, T* shift,
        T* dq, T* dk, T* dv, T* dw)
    {
        using var coefficients = new ConvFullScratch<T>((long)(s.Taps + 1) * s.Stacked);
        Biases(s, w, coefficients.Pointer);
        var cells = (long)s.Batch * s.Positions * s.Stacked;
        using var upstream = new ConvFullScratch<T>(cells);
        ConvFullGates<T>.Gradients(grad, q, ratio, denominator, dq, upstream.Pointer, s.Batch * s.Positions, s.Heads, s.HeadWidth);
        using var x = new ConvFullScratch<T>(cells);
        Stack(s, k, v, shift, x.Pointer);
        using var outside = s.WindowOnly ? null : new AftConvCpuOutside<T>(upstream.Pointer, s);
        T* e = coefficients.Pointer, xs = x.Pointer, hs = upstream.Pointer;

        var blocks = (s.Columns + ColumnBlock - 1) / ColumnBlock;
        var items = (long)s.Batch * s.Rows * blocks;
        var partial = new double[items * s.Heads * s.Taps];
        ConvFullThreads.For(items, item =>
        {
            var (b, r, c0, c1) = Item(s, item, blocks);
            using var accumulator = new ConvFullScratch<T>(s.Stacked);
            using var products = new ConvFullScratch<T>((long)s.Taps * s.Stacked);
            var m = accumulator.Pointer;
            ChannelLoops.Clear(products.Pointer, s.Taps * s.Stacked);
            TapProducts(s, hs, xs, products.Pointer, b, r, c0, c1);
            for (var c = c0; c < c1; c++)
            {
                Window(s, outside, e, hs, m, b, r, c, transposed: true);
                var p = b * s.Positions + (long)r * s.Columns + c;
                var source = xs + p * s.Stacked;
                for (var h = 0; h < s.Heads; h++)
                {
                    var pk = source[s.Width + h];
                    var head = h * s.HeadWidth;
                    ChannelLoops.Scaled(dv + p * s.Width + head, m + head, pk, s.HeadWidth);
                    dk[p * s.Heads + h] = ChannelLoops.Dot(source + head, m + head, s.HeadWidth) + pk * m[s.Width + h];
                }
            }
            // ∂w_tap per head: e^{w_tap − ρ} times the head's channels of Σ rows[target] ⊙ X[source].
            var dwItem = new Span<double>(partial, (int)(item * s.Heads * s.Taps), s.Heads * s.Taps);
            for (var tap = 0; tap < s.Taps; tap++)
            {
                var sums = products.Pointer + (long)tap * s.Stacked;
                for (var h = 0; h < s.Heads; h++)
                {
                    var sum = sums[s.Width + h];
                    for (var j = 0; j < s.HeadWidth; j++) sum += sums[h * s.HeadWidth + j];
                    dwItem[h * s.Taps + tap] = double.CreateTruncating(e[(long)tap * s.Stacked + s.Width + h] * sum);
                }
            }
        });
        for (var j = 0; j < s.Heads * s.Taps; j++)
        {
            var sum = 0.0;
            for (long item = 0; item < items; item++) sum += partial[item * s.Heads * s.Taps + j];
            dw[j] = T.CreateTruncating(sum);
        }
    }

    // acc = Σ e^{−ρ} ⊙ (rows outside the window) + Σ_window e^{w_tap − ρ} ⊙ rows[neighbour], for the target
    // (r, c), or for the source (r, c) over the targets that read it (transposed); the coefficients are
    // spread over each head's channels (one row of Stacked per tap, the outside scale last), so the whole
    // sum is one pass over the channels. No outside sums (window only): the window alone.
    static void Window(AftConvCpuShape s, AftConvCpuOutside<T>? outside, T* e, T* rows, T* acc, long b, int r, int c, bool transposed)
    {
        var (beforeRows, afterRows) = transposed ? (s.AfterRows, s.BeforeRows) : (s.BeforeRows, s.AfterRows);
        var (beforeColumns, afterColumns) = transposed ? (s.AfterColumns, s.BeforeColumns) : (s.BeforeColumns, s.AfterColumns);
        var n = s.Stacked;
        var most = (outside?.MaxRows ?? 0) + s.Taps;
        var coefficients = stackalloc T*[most];
        var sources = stackalloc T*[most];
        var pairs = outside?.OutsideRows(sources, b, Math.Max(r - beforeRows, 0), Math.Min(r + afterRows, s.Rows - 1),
            Math.Max(c - beforeColumns, 0), Math.Min(c + afterColumns, s.Columns - 1)) ?? 0;
        for (var i = 0; i < pairs; i++) coefficients[i] = e + (long)s.Taps * n;
        for (var a = 0; a < s.KernelRows; a++)
        {
            var row = transposed ? r - a + s.BeforeRows : r + a - s.BeforeRows;
            if (row < 0 || row >= s.Rows) continue;
            for (var t = 0; t < s.KernelColumns; t++)
            {
                var column = transposed ? c - t + s.BeforeColumns : c + t - s.BeforeColumns;
                if (column < 0 || column >= s.Columns) continue;
                sources[pairs] = rows + (b * s.Positions + (long)row * s.Columns + column) * n;
                coefficients[pairs++] = e + (long)(a * s.KernelColumns + t) * n;
            }
        }
        ChannelLoops.WeightedSum(acc, coefficients, sources, pairs, n, accumulate: false);
    }

    // products[tap] += Σ over the item's sources (r, c0 … c1 − 1) of rows[target] ⊙ X[source], the target
    // being the one that reads the source through the tap: the sums behind ∂w.
    static void TapProducts(AftConvCpuShape s, T* rows, T* xs, T* products, long b, int r, int c0, int c1)
    {
        var n = s.Stacked;
        var targets = stackalloc T*[c1 - c0];
        var sources = stackalloc T*[c1 - c0];
        for (var a = 0; a < s.KernelRows; a++)
        {
            var row = r - a + s.BeforeRows;
            if (row < 0 || row >= s.Rows) continue;
            for (var t = 0; t < s.KernelColumns; t++)
            {
                var pairs = 0;
                for (var c = c0; c < c1; c++)
                {
                    var column = c - t + s.BeforeColumns;
                    if (column < 0 || column >= s.Columns) continue;
                    targets[pairs] = rows + (b * s.Positions + (long)row * s.Columns + column) * n;
                    sources[pairs++] = xs + (b * s.Positions + (long)r * s.Columns + c) * n;
                }
                ChannelLoops.WeightedSum(products + (long)(a * s.KernelColumns + t) * n, targets, sources, pairs, n, accumulate: true);
            }
        }
    }

    static (long Batch, int Row, int FirstColumn, int EndColumn) Item(AftConvCpuShape s, long item, int blocks)
    {
        var block = (int)(item % blocks);
        var row = item / blocks;
        var first = block * ColumnBlock;
        return (row / s.Rows, (int)(row % s.Rows), first, Math.Min(first + ColumnBlock, s.Columns));
    }

    // Per tap a row of Stacked coefficients, e^{w_tap − ρ} on each of the head's channels, and a last row
    // e^{−ρ} for the outside sums; ρ = max(0, max w) of the head (window only: max w, and the last row unused).
    static void Biases(AftConvCpuShape s, T* w, T* coefficients)
    {
        var n = s.Stacked;
        for (var h = 0; h < s.Heads; h++)
        {
            var rho = s.WindowOnly ? T.NegativeInfinity : T.Zero;
            for (var j = 0; j < s.Taps; j++) rho = T.Max(rho, w[h * s.Taps + j]);
            for (var j = 0; j <= s.Taps; j++)
            {
                var value = j == s.Taps ? T.Exp(-rho) : T.Exp(w[h * s.Taps + j] - rho);
                var row = coefficients + (long)j * n;
                new Span<T>(row + h * s.HeadWidth, s.HeadWidth).Fill(value);
                row[s.Width + h] = value;
            }
        }
    }

    // m = max over positions of each (batch, head)'s keys; a NaN key makes its batch element's m NaN.
    static void KeyMax(AftConvCpuShape s, T* k, T* shift)
    {
        for (long b = 0; b < s.Batch; b++)
        {
            var m = shift + b * s.Heads;
            for (var h = 0; h < s.Heads; h++) m[h] = T.NegativeInfinity;
            for (long p = 0; p < s.Positions; p++)
            {
                var key = k + (b * s.Positions + p) * s.Heads;
                for (var h = 0; h < s.Heads; h++) m[h] = T.Max(m[h], key[h]);
            }
        }
    }

    // X = [P ⊙ V | P], P = e^{K − m}, one row of Stacked channels per position.
    static void Stack(AftConvCpuShape s, T* k, T* v, T* shift, T* x)
    {
        var positions = s.Batch * s.Positions;
        var chunks = (positions + ConvFullGates<T>.Chunk - 1) / ConvFullGates<T>.Chunk;
        ConvFullThreads.For(chunks, chunk =>
        {
            var end = Math.Min(positions, (chunk + 1) * ConvFullGates<T>.Chunk);
            for (var p = chunk * ConvFullGates<T>.Chunk; p < end; p++)
            {
                var m = shift + p / s.Positions * s.Heads;
                var row = x + p * s.Stacked;
                for (var h = 0; h < s.Heads; h++)
                {
                    var weight = T.Exp(k[p * s.Heads + h] - m[h]);
                    ChannelLoops.Scaled(row + h * s.HeadWidth, v + p * s.Width + h * s.HeadWidth, weight, s.HeadWidth);
                    row[s.Width + h] = weight;
                }
            }
        });
    }
}
