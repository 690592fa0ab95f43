namespace AftDsl;

/// <summary>
/// Options every AFT token mixer shares. A mixer maps <c>[B, T, Dim]</c> to <c>[B, T, Dim]</c>.
/// </summary>
public abstract class AftMixerAttribute : Attribute
{
    /// <summary>
    /// Width of the input and output features. When set, the generated class has a parameterless
    /// constructor and the width is a compile-time constant; when left out, the constructor takes
    /// <c>long dim</c> and checks it at run time.
    /// </summary>
    public int Dim { get; set; }

    /// <summary>When true, position t sees positions ≤ t only (autoregressive models). Default false.</summary>
    public bool Causal { get; set; }
}
