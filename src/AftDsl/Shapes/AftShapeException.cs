namespace AftDsl;

/// <summary>
/// Thrown by a generated layer when a tensor's shape, dtype or device does not match what the layer
/// was declared with. The message names the layer, the expected symbolic shape with its bounds,
/// and the actual shape.
/// </summary>
public sealed class AftShapeException(string layer, string expected, string actual, string problem, string? paramName = null)
    : ArgumentException($"{layer}: {problem} Expected {expected}; got {actual}.", paramName)
{
    /// <summary>The layer, as declared: kind and class name, e.g. <c>AftFull 'TextMixer'</c>.</summary>
    public string Layer { get; } = layer;

    /// <summary>The expected shape with its bounds, e.g. <c>[B, T, 64] with 1 ≤ T ≤ 1024</c>.</summary>
    public string Expected { get; } = expected;

    /// <summary>What was passed, e.g. <c>[2, 2000, 64]</c>.</summary>
    public string Actual { get; } = actual;
}
