namespace AftDsl.Generators.Model;

/// <summary>
/// Everything the emitter needs to write an AFT-full layer, as plain values: no symbols, syntax
/// or locations, so an edit elsewhere leaves an equal spec and regenerates nothing.
/// </summary>
/// <param name="Dim">Null when the width is bound at construction (<c>new X(dim)</c>).</param>
/// <param name="HiddenDim">Null when it follows <paramref name="Dim"/>.</param>
internal sealed record AftFullSpec(
    TargetType Target,
    int MaxLength,
    int? Dim,
    bool Causal,
    int FactorRank,
    int? HiddenDim)
{
    /// <summary>How messages and exceptions name the layer: <c>AftFull 'TextMixer'</c>.</summary>
    public string LayerName => $"AftFull '{Target.Name}'";
}
