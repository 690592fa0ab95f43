namespace AftDsl;

/// <summary>
/// Thrown by a generated layer when a tensor's shape, dtype or device does not match what the layer
/// was declared with. The message names the layer, the expected symbolic shape with its bounds,
/// and the actual shape.
/// </summary>
public sealed class AftShapeException : ArgumentException
{
    /// <summary>A shape error of <paramref name="layer"/>: the message is "<c>{layer}: {problem} Expected {expected}; got {actual}.</c>".</summary>
    public AftShapeException(string layer, string expected, string actual, string problem, string? paramName = null)
        : this(layer, expected, actual, problem, paramName, problemNamesLayer: false) { }

    /// <summary>
    /// A run-time check of a compile-time warning (AFT04xx): <paramref name="diagnostic"/> is that warning's ID and
    /// message as the compiler wrote it, which already names the layer, so the message repeats it once:
    /// "<c>AFT0401: AftModel 'X': … Expected {expected}; got {actual}.</c>".
    /// </summary>
    public static AftShapeException FromDiagnostic(string layer, string expected, string actual, string diagnostic, string? paramName = null) =>
        new(layer, expected, actual, diagnostic, paramName, problemNamesLayer: true);

    AftShapeException(string layer, string expected, string actual, string message, string? paramName, bool problemNamesLayer)
        : base($"{(problemNamesLayer ? "" : layer + ": ")}{message} Expected {expected}; got {actual}.", paramName)
    {
        Layer = layer;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The layer, as declared: kind and class name, e.g. <c>AftFull 'TextMixer'</c>.</summary>
    public string Layer { get; }

    /// <summary>The expected shape with its bounds, e.g. <c>[B, T, 64] with 1 ≤ T ≤ 1024</c>.</summary>
    public string Expected { get; }

    /// <summary>What was passed, e.g. <c>[2, 2000, 64]</c>.</summary>
    public string Actual { get; }
}
