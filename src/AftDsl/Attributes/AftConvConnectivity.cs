namespace AftDsl;

/// <summary>Which sources an AFT-conv position mixes: the whole input, or its kernel window only.</summary>
public enum AftConvConnectivity
{
    /// <summary>
    /// The paper's AFT-conv (Eq. 6): sources outside the window have bias w = 0, so they still count through
    /// the global sums; every position sees the whole input. The default.
    /// </summary>
    Global = 0,

    /// <summary>
    /// w = −∞ outside the window: each position mixes only the sources inside its window (numerator and
    /// denominator are the window's sums); the window always holds the position itself.
    /// </summary>
    Window = 1,
}
