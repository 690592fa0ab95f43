using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary>
/// Range checks for numeric options, each failure naming the option, the valid range and the value given, so that
/// NaN, the infinities and values that would overflow later (a TimeSpan, an allocation) never get past the command line.
/// </summary>
public static class OptionRange
{
    /// <summary>Checks a real-valued option: finite and within [<paramref name="min"/>, <paramref name="max"/>] (or (min, max] when <paramref name="minExclusive"/>).</summary>
    public static ValidationResult? Real(string option, double? value, double min, double max, bool minExclusive = false)
    {
        if (value is not { } v) return null;
        var inside = double.IsFinite(v) && (minExclusive ? v > min : v >= min) && v <= max;
        return inside ? null : ValidationResult.Error(
            $"{option} must be a finite number {(minExclusive ? "above" : "from")} {N(min)} {(minExclusive ? "up to" : "to")} {N(max)}, got {N(v)}.");
    }

    /// <summary>Checks a whole-number option within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static ValidationResult? Whole(string option, long? value, long min, long max) =>
        value is { } v && (v < min || v > max)
            ? ValidationResult.Error($"{option} must be a whole number from {min.ToString("N0", CultureInfo.InvariantCulture)} to {max.ToString("N0", CultureInfo.InvariantCulture)}, got {v.ToString(CultureInfo.InvariantCulture)}.")
            : null;

    /// <summary>The first failure of <paramref name="checks"/>, or success.</summary>
    public static ValidationResult First(params ValidationResult?[] checks) =>
        checks.FirstOrDefault(c => c is not null) ?? ValidationResult.Success();

    static string N(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
