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

    /// <summary>Checks a comma-separated list of whole numbers, each within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static ValidationResult? WholeList(string option, string? list, long min, long max)
    {
        if (list is null) return null;
        var parts = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var valid = parts.Length > 0 && parts.All(p => long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max);
        return valid ? null : ValidationResult.Error(
            $"{option} must be whole numbers from {min.ToString("N0", CultureInfo.InvariantCulture)} to {max.ToString("N0", CultureInfo.InvariantCulture)}, comma-separated, got '{list}'.");
    }

    /// <summary>The first failure of <paramref name="checks"/>, or success.</summary>
    public static ValidationResult First(params ValidationResult?[] checks) =>
        checks.FirstOrDefault(c => c is not null) ?? ValidationResult.Success();

    static string N(double value) => value.ToString("G", CultureInfo.InvariantCulture);
}
