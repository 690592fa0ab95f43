namespace AftDsl.Kernels.Cpu;

/// <summary>
/// Sums of stacked rows X <c>[B, rows, columns, C]</c> outside a kernel window, built from sums of the terms
/// themselves (never a total minus the window, which cancels when the window holds nearly everything):
/// per row the exclusive prefix and suffix along the columns, per batch element the exclusive prefix and
/// suffix of whole rows. The outside of the window [r0, r1] × [c0, c1] is the rows above r0, the rows below
/// r1, and in each of the rows r0 … r1 the columns left of c0 and right of c1.
/// </summary>
internal sealed unsafe class AftConvCpuOutside<T> : IDisposable where T : unmanaged, System.Numerics.IBinaryFloatingPointIeee754<T>
{
    readonly AftConvCpuShape shape;
    readonly ConvFullScratch<T> left, right, above, below, rowTotals;

    /// <summary>Builds the sums of <paramref name="x"/>, in parallel over rows and then over the batch.</summary>
    public AftConvCpuOutside(T* x, AftConvCpuShape shape)
    {
        this.shape = shape;
        var c = shape.Stacked;
        var (rows, columns) = (shape.Rows, shape.Columns);
        long cells = (long)shape.Batch * shape.Positions * c, rowCells = (long)shape.Batch * rows * c;
        (left, right) = (new ConvFullScratch<T>(cells), new ConvFullScratch<T>(cells));
        (above, below, rowTotals) = (new ConvFullScratch<T>(rowCells), new ConvFullScratch<T>(rowCells), new ConvFullScratch<T>(rowCells));
        T* l = left.Pointer, r = right.Pointer, a = above.Pointer, b = below.Pointer, totals = rowTotals.Pointer;

        ConvFullThreads.For((long)shape.Batch * rows, row =>
        {
            var start = row * columns * c;
            ChannelLoops.Clear(l + start, c);
            for (var j = 1; j < columns; j++)
                ChannelLoops.Sum(l + start + j * c, l + start + (j - 1) * c, x + start + (j - 1) * c, c);
            var last = start + (long)(columns - 1) * c;
            ChannelLoops.Clear(r + last, c);
            for (var j = columns - 2; j >= 0; j--)
                ChannelLoops.Sum(r + start + j * c, r + start + (j + 1) * c, x + start + (j + 1) * c, c);
            ChannelLoops.Sum(totals + row * c, l + last, x + last, c);
        });
        ConvFullThreads.For(shape.Batch, batch =>
        {
            var start = batch * rows * c;
            ChannelLoops.Clear(a + start, c);
            for (var i = 1; i < rows; i++)
                ChannelLoops.Sum(a + start + i * c, a + start + (i - 1) * c, totals + start + (i - 1) * c, c);
            ChannelLoops.Clear(b + start + (rows - 1) * c, c);
            for (var i = rows - 2; i >= 0; i--)
                ChannelLoops.Sum(b + start + i * c, b + start + (i + 1) * c, totals + start + (i + 1) * c, c);
        });
    }

    /// <summary>Most rows <see cref="OutsideRows"/> gives.</summary>
    public int MaxRows => 2 + 2 * shape.KernelRows;

    /// <summary>
    /// Writes to <paramref name="rows"/> the rows whose sum is batch element <paramref name="batch"/>'s sum outside
    /// [r0, r1] × [c0, c1] (bounds inside the grid), and returns how many.
    /// </summary>
    public int OutsideRows(T** rows, long batch, int r0, int r1, int c0, int c1)
    {
        var c = shape.Stacked;
        var rowBase = batch * shape.Rows;
        var count = 0;
        rows[count++] = above.Pointer + (rowBase + r0) * c;
        rows[count++] = below.Pointer + (rowBase + r1) * c;
        for (var i = r0; i <= r1; i++)
        {
            var cell = (rowBase + i) * shape.Columns;
            rows[count++] = left.Pointer + (cell + c0) * c;
            rows[count++] = right.Pointer + (cell + c1) * c;
        }
        return count;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        left.Dispose();
        right.Dispose();
        above.Dispose();
        below.Dispose();
        rowTotals.Dispose();
    }
}
