namespace AftDsl.Cuda;

/// <summary>A CUDA launch extent: grid size in blocks, or block size in threads.</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>X · Y · Z.</summary>
    public ulong Count => (ulong)X * Y * Z;

    /// <inheritdoc/>
    public override string ToString() => $"({X}, {Y}, {Z})";
}
