using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// Which rows take part in a step: all of them, or those a boolean mask <c>[B]</c> marks. Read to the host
/// once per step, because positions are kept on the host (they pick rows of position tables).
/// </summary>
internal readonly struct ActiveRows
{
    readonly bool[]? rows;

    ActiveRows(bool[]? rows, Tensor? mask)
    {
        this.rows = rows;
        Mask = mask;
    }

    /// <summary>The device mask, or null when every row takes part.</summary>
    public Tensor? Mask { get; }

    /// <summary>True when every row takes part.</summary>
    public bool All => rows is null;

    public bool Includes(int row) => rows is null || rows[row];

    /// <summary>Reads <paramref name="mask"/> (null: all rows), checking that it is boolean <c>[batch]</c>.</summary>
    public static ActiveRows From(Tensor? mask, long batch, string owner)
    {
        if (mask is null)
            return new(null, null);
        if (mask.dtype != ScalarType.Bool || mask.dim() != 1 || mask.shape[0] != batch)
            throw new ArgumentException(
                $"{owner}: the active mask must be a bool tensor [{batch}] (one flag per row), not {mask.dtype} {ShapeGuard.Describe(mask.shape)}.",
                "active");
        using var host = mask.cpu();
        return new(host.data<bool>().ToArray(), mask);
    }

    /// <summary><paramref name="updated"/> in the active rows, <paramref name="kept"/> elsewhere; rows are the first dimension.</summary>
    public Tensor Select(Tensor updated, Tensor kept)
    {
        if (Mask is null)
            return updated;
        var shape = new long[updated.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        return where(Mask.to(updated.device).view(shape), updated, kept);
    }
}
