namespace AftDsl.Generators.Model;

/// <summary>The four AFT token mixers of the paper, and multi-head attention as their baseline.</summary>
internal enum MixerKind
{
    Full,
    Local,
    Simple,
    Conv,
    Attention,
}

/// <summary>
/// Everything the emitter needs to write one mixer layer, as plain values: no symbols, syntax or
/// locations, so an edit elsewhere leaves an equal spec and regenerates nothing. Fields a kind does
/// not have are 0 (MaxLength and FactorRank for AFT-simple and AFT-conv; Window for AFT-full and
/// AFT-simple; Heads and the grid for all but AFT-conv).
/// </summary>
/// <param name="Dim">Null when the width is bound at construction (<c>new X(dim)</c>).</param>
/// <param name="HiddenDim">Null when it follows <paramref name="Dim"/>.</param>
/// <param name="Grid">AFT-conv over a 2-d grid (true) or a sequence (false).</param>
/// <param name="GridHeight">A fixed grid height, or 0 for any.</param>
/// <param name="GridWidth">A fixed grid width, or 0 for any.</param>
/// <param name="Reparameterise">AFT-conv: the kernel is γ·(w − mean)/(std + ε) + β (true, the default) or the parameter itself.</param>
/// <param name="WindowConnectivity">AFT-conv: only the window counts (w = −∞ outside it) rather than the whole input (false, the default).</param>
internal sealed record MixerSpec(
    MixerKind Kind,
    TargetType Target,
    int? Dim,
    bool Causal,
    int? HiddenDim,
    int MaxLength = 0,
    int FactorRank = 0,
    int Window = 0,
    int Heads = 0,
    bool Grid = false,
    int GridHeight = 0,
    int GridWidth = 0,
    bool Reparameterise = true,
    bool WindowConnectivity = false)
{
    /// <summary>The attribute's name without the suffix: <c>AftFull</c>, <c>AftLocal</c>, …, <c>MultiHeadAttention</c>.</summary>
    public string AttributeName => Kind == MixerKind.Attention ? "MultiHeadAttention" : "Aft" + Kind;

    /// <summary>How messages and exceptions name the layer: <c>AftFull 'TextMixer'</c>.</summary>
    public string LayerName => $"{AttributeName} '{Target.Name}'";

    /// <summary>AFT-full and AFT-local carry the factorised position bias U·Wᵀ.</summary>
    public bool HasFactorisedBias => Kind is MixerKind.Full or MixerKind.Local;

    /// <summary>AFT-conv and attention split the width into heads, which must divide Dim.</summary>
    public bool HasHeads => Kind is MixerKind.Conv or MixerKind.Attention;

    /// <summary>True when the mixer takes a grid <c>[B, H, W, Dim]</c> rather than a sequence.</summary>
    public bool TakesGrid => Kind == MixerKind.Conv && Grid;

    /// <summary>True when the layer gets BeginDecoding and Step: causal, over a sequence.</summary>
    public bool Decodes => Causal && !TakesGrid;

    /// <summary>The longest sequence it accepts, or 0 for any.</summary>
    public int LengthBound => HasFactorisedBias ? MaxLength : 0;
}
