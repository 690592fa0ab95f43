namespace AftDsl.Tests.Shared;

/// <summary>
/// Whether two float32 outputs of the same model agree, element by element, in a way that NaN and ∞ cannot pass: an
/// element agrees only if |a − b| ≤ tolerance, a comparison that is false for NaN, and both outputs must be finite.
/// Shared by the interop tests of AftDsl.Tests and AftLab.Tests (linked into both).
/// </summary>
public static class OutputAgreement
{
    /// <summary>
    /// The issue's float32 tolerance, 10⁻⁵, relative to the output's size: max(1, largest |expected|). Why relative:
    /// float32 rounding errors are relative to the numbers rounded, so logits of 8 carry errors 8 times those of logits
    /// of 1 (the 12 × 512 models differ by up to 1.7·10⁻⁵ on logits up to 7, 2.5·10⁻⁶ of their size); the floor of 1 makes it
    /// an absolute 10⁻⁵ for outputs below 1, so small outputs are not held to a tighter bound than float32 can keep.
    /// </summary>
    public const double Tolerance = 1e-5;

    /// <summary>Null when <paramref name="actual"/> agrees with <paramref name="expected"/>; otherwise what is wrong, naming <paramref name="what"/>.</summary>
    public static string? Problem(string what, float[] expected, float[] actual)
    {
        if (expected.Length != actual.Length)
            return $"{what}: {actual.Length} numbers where {expected.Length} were expected";
        var notFinite = new List<string>();
        if (CountNotFinite(expected) is var e and > 0) notFinite.Add($"{e} of the expected numbers are NaN or ±∞");
        if (CountNotFinite(actual) is var a and > 0) notFinite.Add($"{a} of the actual numbers are NaN or ±∞");
        if (notFinite.Count > 0)
            return $"{what}: {string.Join("; ", notFinite)}";
        var bound = Bound(expected);
        var outside = 0;
        var largest = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs((double)expected[i] - actual[i]);
            if (!(difference <= bound)) outside++;
            largest = Math.Max(largest, difference);
        }
        return outside == 0 ? null : $"{what}: {outside} of {expected.Length} numbers differ by more than {bound:E2} (up to {largest:E3})";
    }

    /// <summary>The largest |a − b| allowed for outputs like <paramref name="expected"/> (all finite): Tolerance × max(1, largest |value|).</summary>
    public static double Bound(float[] expected) => Tolerance * Math.Max(1.0, expected.Max(v => Math.Abs((double)v)));

    static int CountNotFinite(float[] values) => values.Count(v => !float.IsFinite(v));
}
