namespace AftDsl.Kernels.Cpu;

/// <summary>
/// Sizes of one AFT-conv call on the CPU. A sequence is a grid of one row (and a kernel of one row); a tap
/// (a, b) of the kernel reads the source (r + a − BeforeRows, c + b − BeforeColumns) of the target (r, c).
/// <paramref name="WindowOnly"/>: sources outside the window do not count (window connectivity).
/// </summary>
internal sealed record AftConvCpuShape(int Batch, int Rows, int Columns, int Heads, int HeadWidth, int KernelRows, int KernelColumns, bool Causal,
    bool WindowOnly = false)
{
    /// <summary>The width D of q and v.</summary>
    public int Width => Heads * HeadWidth;

    /// <summary>Channels of the stacked rows [numerator channels | one denominator channel per head].</summary>
    public int Stacked => Width + Heads;

    /// <summary>Grid positions per batch element.</summary>
    public long Positions => (long)Rows * Columns;

    /// <summary>Kernel taps per head.</summary>
    public int Taps => KernelRows * KernelColumns;

    /// <summary>Kernel rows before the target ("same" padding as PyTorch's).</summary>
    public int BeforeRows => (KernelRows - 1) / 2;

    /// <summary>Kernel columns before the target: all but one when causal, else PyTorch's "same".</summary>
    public int BeforeColumns => Causal ? KernelColumns - 1 : (KernelColumns - 1) / 2;

    /// <summary>Kernel rows after the target.</summary>
    public int AfterRows => KernelRows - 1 - BeforeRows;

    /// <summary>Kernel columns after the target.</summary>
    public int AfterColumns => KernelColumns - 1 - BeforeColumns;
}
