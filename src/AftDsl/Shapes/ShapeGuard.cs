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
    public static void Sequence(Tensor input, string layer, long dim, long maxLength, Tensor parameter) =>
        CheckSequence(input, layer, dim, maxLength, parameter);

    /// <summary>Requires <paramref name="input"/> to be <c>[B, T, dim]</c> with B ≥ 1 and T ≥ 1 (layers without position parameters).</summary>
    public static void Sequence(Tensor input, string layer, long dim, Tensor parameter) =>
        CheckSequence(input, layer, dim, null, parameter);

    /// <summary>
    /// Requires <paramref name="input"/> to be a channels-last grid <c>[B, H, W, dim]</c>, of the given
    /// <paramref name="height"/> and <paramref name="width"/> when the layer fixes them (null: any size).
    /// </summary>
    public static void Grid(Tensor input, string layer, long dim, long? height, long? width, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(input);
        var grid = height is { } h && width is { } w ? $"{h}, {w}" : "H, W";
        var expected = $"[B, {grid}, {dim}] (a channels-last grid)";
        var actual = Describe(input.shape);
        if (input.dim() != 4)
            throw new AftShapeException(layer, expected, actual,
                $"input must have 4 dimensions (batch, height, width, channels), not {input.dim()}." +
                (input.dim() == 3 ? " For one image, add a batch dimension with input.unsqueeze(0); for a sequence, declare Layout = AftConvLayout.Sequence." : ""),
                nameof(input));
        if (input.shape[3] != dim)
            throw new AftShapeException(layer, expected, actual,
                $"the channel dimension is {input.shape[3]}, but the layer's Dim is {dim}." +
                (input.shape[1] == dim ? " The input looks channels-first ([B, C, H, W]): permute it with input.permute(0, 2, 3, 1)." : ""),
                nameof(input));
        if (input.shape[0] < 1 || input.shape[1] < 1 || input.shape[2] < 1)
            throw new AftShapeException(layer, expected, actual, "the batch or the grid is empty.", nameof(input));
        if (height is { } fixedHeight && width is { } fixedWidth && (input.shape[1] != fixedHeight || input.shape[2] != fixedWidth))
            throw new AftShapeException(layer, expected, actual,
                $"the grid is {input.shape[1]}×{input.shape[2]}, but the layer declares GridHeight = {fixedHeight}, GridWidth = {fixedWidth}; leave them out to accept any grid.",
                nameof(input));
        CheckParameterMatch(input, layer, expected, actual, parameter);
    }

    /// <summary>Requires a width given at construction to be positive; returns it.</summary>
    public static long Positive(long value, string name, string layer) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{layer}: {name} must be positive, got {value}.");

    /// <summary>Requires <paramref name="heads"/> to divide a width given at construction; returns the width.</summary>
    public static long DivisibleByHeads(long dim, long heads, string layer)
    {
        Positive(dim, nameof(dim), layer);
        if (dim % heads == 0)
            return dim;
        var below = dim / heads * heads;
        var nearest = below == 0 ? $"{heads}" : $"{below} or {below + heads}";
        throw new ArgumentOutOfRangeException(nameof(dim), dim,
            $"{layer}: heads ({heads}) must divide dim ({dim}): {dim} / {heads} = {(double)dim / heads:0.###}. Nearest dims divisible by {heads}: {nearest}.");
    }

    /// <summary><c>[2, 2000, 64]</c>.</summary>
    public static string Describe(long[] shape) => "[" + string.Join(", ", shape) + "]";

    static void CheckSequence(Tensor input, string layer, long dim, long? maxLength, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(input);
        var expected = maxLength is { } max ? $"[B, T, {dim}] with 1 ≤ T ≤ {max} (maxLength)" : $"[B, T, {dim}] with T ≥ 1";
        var actual = Describe(input.shape);
        if (input.dim() != 3)
            throw new AftShapeException(layer, expected, actual,
                $"input must have 3 dimensions (batch, time, features), not {input.dim()}." +
                (input.dim() == 2 ? " For a single sequence, add a batch dimension with input.unsqueeze(0)." : ""),
                nameof(input));
        var (batch, length, features) = (input.shape[0], input.shape[1], input.shape[2]);
        if (features != dim)
            throw new AftShapeException(layer, expected, actual, $"the feature dimension is {features}, but the layer's Dim is {dim}.", nameof(input));
        if (length < 1)
            throw new AftShapeException(layer, expected, actual, "the sequence is empty (T = 0).", nameof(input));
        if (maxLength is { } limit && length > limit)
            throw new AftShapeException(layer, expected, actual, $"T = {length} exceeds maxLength {limit}; split the sequence or declare a larger maxLength.", nameof(input));
        if (batch < 1)
            throw new AftShapeException(layer, expected, actual, "the batch is empty (B = 0).", nameof(input));
        CheckParameterMatch(input, layer, expected, actual, parameter);
    }

    static void CheckParameterMatch(Tensor input, string layer, string expected, string actual, Tensor parameter)
    {
        if (input.dtype != parameter.dtype)
            throw new AftShapeException(layer, expected, $"{actual} of {input.dtype}",
                $"the input's dtype is {input.dtype} but the layer's parameters are {parameter.dtype}; convert one with .to({parameter.dtype}) or .to({input.dtype}).",
                nameof(input));
        if (input.device_type != parameter.device_type || input.device_index != parameter.device_index)
            throw new AftShapeException(layer, expected, $"{actual} on {input.device}",
                $"the input is on {input.device} but the layer's parameters are on {parameter.device}; move one with .to(...).",
                nameof(input));
    }
}
