using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl;

/// <summary>
/// Run-time checks at the boundary of generated layers: what the compiler cannot prove
/// (B and T are only known at run time) is checked here, with messages a user can act on.
/// </summary>
public static class ShapeGuard
{
    /// <summary>
    /// Requires <paramref name="input"/> to be <c>[B, T, dim]</c> with B ≥ 1 and 1 ≤ T ≤ maxLength,
    /// floating point, with the dtype and device of the layer's <paramref name="parameter"/>.
    /// </summary>
    public static void Sequence(Tensor input, string layer, long dim, long maxLength, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(input);
        var expected = $"[B, T, {dim}] with 1 ≤ T ≤ {maxLength} (maxLength)";
        var actual = Describe(input.shape);
        if (input.dim() != 3)
            throw new AftShapeException(layer, expected, actual,
                $"input must have 3 dimensions (batch, time, features), not {input.dim()}." +
                (input.dim() == 2 ? " For a single sequence, add a batch dimension with input.unsqueeze(0)." : ""),
                nameof(input));
        var (batch, length, features) = (input.shape[0], input.shape[1], input.shape[2]);
        if (features != dim)
            throw new AftShapeException(layer, expected, actual, $"the feature dimension is {features}, but the layer's Dim is {dim}.", nameof(input));
        if (length < 1 || length > maxLength)
            throw new AftShapeException(layer, expected, actual,
                length < 1 ? "the sequence is empty (T = 0)." : $"T = {length} exceeds maxLength {maxLength}; split the sequence or declare a larger maxLength.",
                nameof(input));
        if (batch < 1)
            throw new AftShapeException(layer, expected, actual, "the batch is empty (B = 0).", nameof(input));
        if (input.dtype != parameter.dtype)
            throw new AftShapeException(layer, expected, $"{actual} of {input.dtype}",
                $"the input's dtype is {input.dtype} but the layer's parameters are {parameter.dtype}; convert one with .to({parameter.dtype}) or .to({input.dtype}).",
                nameof(input));
        if (input.device_type != parameter.device_type || input.device_index != parameter.device_index)
            throw new AftShapeException(layer, expected, $"{actual} on {input.device}",
                $"the input is on {input.device} but the layer's parameters are on {parameter.device}; move one with .to(...).",
                nameof(input));
    }

    /// <summary>Requires a width given at construction to be positive; returns it.</summary>
    public static long Positive(long value, string name, string layer) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{layer}: {name} must be positive, got {value}.");

    /// <summary><c>[2, 2000, 64]</c>.</summary>
    public static string Describe(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
