using System.Globalization;
using System.Text.RegularExpressions;

namespace AftLab.Training.Checkpoints;

/// <summary>
/// The names in a checkpoints folder: <c>checkpoint-000120</c> (a checkpoint, complete or interrupted),
/// <c>checkpoint-000120.partial-PID</c> (being written), <c>checkpoint-000120.pruning</c> (being deleted) and
/// <c>checkpoint-000120.corrupt</c> (failed verification, kept for a person to look at).
/// </summary>
public static partial class CheckpointName
{
    public const string PartialSuffix = ".partial-";
    public const string PruningSuffix = ".pruning";
    public const string CorruptSuffix = ".corrupt";

    public static string Of(int step) => $"checkpoint-{step:D6}";

    /// <summary>The step of an exact checkpoint name, or null for any other name (a pointer's text, a temporary folder).</summary>
    public static int? StepOf(string name) =>
        Exact().Match(name) is { Success: true } match && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var step)
            ? step : null;

    /// <summary>A folder left by an interrupted write or an interrupted deletion: safe to remove once a newer checkpoint verifies.</summary>
    public static bool IsLeftover(string name) =>
        name.StartsWith("checkpoint-", StringComparison.Ordinal) && (name.Contains(PartialSuffix, StringComparison.Ordinal) || name.EndsWith(PruningSuffix, StringComparison.Ordinal));

    [GeneratedRegex(@"^checkpoint-(\d{6,9})$")]
    private static partial Regex Exact();
}
