using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl;

/// <summary>
/// Run-time checks at the entry of generated models: the input's layout, and the relations the
/// compiler could not decide (reported then as warnings AFT04xx, thrown here with the same wording).
/// </summary>
public static class ModelGuard
{
    /// <summary>Token ids <c>[B, T]</c>, integer, 1 ≤ T ≤ maxLength, every id in [0, vocab).</summary>
    public static void Tokens(Tensor input, string model, long vocab, long maxLength)
    {
        ArgumentNullException.ThrowIfNull(input);
        var expected = $"[B, T] int64 token ids below {vocab}, 1 ≤ T ≤ {maxLength}";
        var actual = ShapeGuard.Describe(input.shape);
        if (input.dim() != 2)
            throw new AftShapeException(model, expected, actual,
                $"input must have 2 dimensions (batch, time), not {input.dim()}." + (input.dim() == 1 ? " For one sequence, add a batch dimension with input.unsqueeze(0)." : ""),
                nameof(input));
        if (input.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new AftShapeException(model, expected, $"{actual} of {input.dtype}", $"token ids must be integers, not {input.dtype}; convert with .to(torch.int64).", nameof(input));
        if (input.shape[1] < 1 || input.shape[1] > maxLength || input.shape[0] < 1)
            throw new AftShapeException(model, expected, actual,
                input.shape[1] > maxLength ? $"T = {input.shape[1]} exceeds maxLength {maxLength}." : "the batch or the sequence is empty.", nameof(input));
        using var min = input.min();                                        // disposed here: a guard leaves no tensors behind
        using var max = input.max();
        var (low, high) = (min.ToInt64(), max.ToInt64());                   // int32 and int64 ids alike
        if (low < 0 || high >= vocab)
            throw new AftShapeException(model, expected, actual, $"token ids must lie in [0, {vocab}), but they range over [{low}, {high}].", nameof(input));
    }

    /// <summary>
    /// Channels-first images <c>[B, channels, H, W]</c>, of the declared size where one is declared; sides
    /// divisible by <paramref name="patch"/> (AFT0401) and, when a sequence mixer reads the patch grid, no more
    /// than <paramref name="positions"/> patches (AFT0402); <paramref name="patchMessage"/> and <paramref name="positionsMessage"/> hold those checks' wording.
    /// </summary>
    public static void Images(Tensor input, string model, long channels, long? height, long? width, long patch, long? positions,
        string? patchMessage = null, string? positionsMessage = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var size = height is { } h && width is { } w ? $"{h}, {w}" : "H, W";
        var expected = $"[B, {channels}, {size}] float images (channels first)";
        var actual = ShapeGuard.Describe(input.shape);
        if (input.dim() != 4)
            throw new AftShapeException(model, expected, actual,
                $"input must have 4 dimensions (batch, channels, height, width), not {input.dim()}." + (input.dim() == 3 ? " For one image, add a batch dimension with input.unsqueeze(0)." : ""),
                nameof(input));
        if (!input.is_floating_point())
            throw new AftShapeException(model, expected, $"{actual} of {input.dtype}", $"images must be floating point, not {input.dtype}; convert with .to(torch.float32).", nameof(input));
        if (input.shape[1] != channels)
            throw new AftShapeException(model, expected, actual,
                $"the image has {Count(input.shape[1], "channel")}, but the model takes {channels}." + (input.shape[3] == channels ? " The input looks channels-last: permute it with input.permute(0, 3, 1, 2)." : ""),
                nameof(input));
        if (height is { } fixedHeight && width is { } fixedWidth && (input.shape[2] != fixedHeight || input.shape[3] != fixedWidth))
            throw new AftShapeException(model, expected, actual, $"the image is {input.shape[2]}×{input.shape[3]}, but the model declares {fixedHeight}×{fixedWidth}.", nameof(input));
        if (input.shape[2] % patch != 0 || input.shape[3] % patch != 0)
            throw AftShapeException.FromDiagnostic(model, expected, actual,
                $"AFT0401: {patchMessage ?? $"{model}: the image height and width must be divisible by the patch {patch}"}: {input.shape[2]}×{input.shape[3]} is not.",
                nameof(input));
        if (positions is { } bound && input.shape[2] / patch * (input.shape[3] / patch) > bound)
            throw AftShapeException.FromDiagnostic(model, expected, actual,
                $"AFT0402: {positionsMessage ?? $"{model}: at most {Count(bound, "patch", "patches")} are allowed"}: " +
                $"{input.shape[2] / patch}×{input.shape[3] / patch} = {Count(input.shape[2] / patch * (input.shape[3] / patch), "patch", "patches")}.", nameof(input));
    }

    /// <summary>"1 channel", "3 channels": a count with its noun in the number it takes.</summary>
    static string Count(long n, string one, string? many = null) => $"{n} {(n == 1 ? one : many ?? one + "s")}";
}
