using System.Text.Json;

namespace AftLab.Training.Checkpoints;

/// <summary>What a look at one checkpoint folder found.</summary>
public enum CheckpointStatus
{
    /// <summary>Every file is there with the length and SHA-256 its manifest lists, and state.json agrees with it.</summary>
    Verified,

    /// <summary>No manifest in a folder still being written (<c>*.partial-PID</c>): an interrupted write, never used.</summary>
    Partial,

    /// <summary>A manifest, and something that does not match it: kept aside, reported, never used.</summary>
    Corrupt,
}

/// <summary>The verdict on one checkpoint folder: its status, what differs, and (when verified) its manifest and state.</summary>
public sealed record CheckpointCheck(string Path, CheckpointStatus Status, IReadOnlyList<string> Problems, CheckpointManifest? Manifest, TrainingState? State)
{
    /// <summary>The problems in one sentence, each naming its file.</summary>
    public string Summary => string.Join("; ", Problems);

    /// <summary>Checks <paramref name="folder"/> against its manifest: every listed file's length and SHA-256, and state.json's content.</summary>
    public static CheckpointCheck Of(string folder)
    {
        var manifestPath = System.IO.Path.Combine(folder, CheckpointManifest.FileName);
        if (!File.Exists(manifestPath))
            return CheckpointName.IsLeftover(System.IO.Path.GetFileName(folder))
                ? new(folder, CheckpointStatus.Partial, [$"{CheckpointManifest.FileName}: missing (an interrupted write)"], null, null)
                : Corrupt(folder, $"{CheckpointManifest.FileName}: missing (deleted, or written by an older aftlab)");
        string text;
        try { text = File.ReadAllText(manifestPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Corrupt(folder, $"{CheckpointManifest.FileName}: unreadable ({e.Message})"); }
        var manifest = CheckpointManifest.Parse(text, out var parseProblem);
        if (manifest is null)
            return Corrupt(folder, $"{CheckpointManifest.FileName} {parseProblem}");

        var problems = new List<string>();
        if (CheckpointName.StepOf(System.IO.Path.GetFileName(folder)) is { } folderStep && folderStep != manifest.Step)
            problems.Add($"{CheckpointManifest.FileName}: step {manifest.Step}, but the folder is named for step {folderStep}");
        foreach (var required in CheckpointManifest.RequiredFiles.Where(r => manifest.Files.All(f => f.Name != r)))
            problems.Add($"{CheckpointManifest.FileName}: does not list {required}");
        foreach (var expected in manifest.Files)
        {
            var path = System.IO.Path.Combine(folder, expected.Name);
            if (expected.Name.Contains('/') || expected.Name.Contains('\\') || expected.Name.StartsWith('.'))
                problems.Add($"{CheckpointManifest.FileName}: lists '{expected.Name}', which is not a file of this folder");
            else if (!File.Exists(path))
                problems.Add($"{expected.Name}: missing");
            else if (TryMeasure(path, out var unreadable) is not { } actual)
                problems.Add($"{expected.Name}: unreadable ({unreadable})");
            else
            {
                if (actual.Bytes != expected.Bytes)
                    problems.Add($"{expected.Name}: {actual.Bytes:N0} bytes, the manifest says {expected.Bytes:N0}");
                else if (!string.Equals(actual.Sha256, expected.Sha256, StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{expected.Name}: SHA-256 {actual.Sha256[..12]}…, the manifest says {expected.Sha256[..Math.Min(12, expected.Sha256.Length)]}… (the content changed)");
            }
        }
        if (problems.Count > 0)
            return new(folder, CheckpointStatus.Corrupt, problems, manifest, null);

        var state = ReadState(System.IO.Path.Combine(folder, "state.json"), manifest, problems);
        return problems.Count > 0 || state is null
            ? new(folder, CheckpointStatus.Corrupt, problems, manifest, null)
            : new(folder, CheckpointStatus.Verified, [], manifest, state);
    }

    static ManifestFile? TryMeasure(string path, out string? problem)
    {
        try
        {
            problem = null;
            return CheckpointManifest.Measure(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
    }

    // The hash already matched, so this only fails for a checkpoint written wrong; checked anyway, because resume trusts these numbers.
    static TrainingState? ReadState(string path, CheckpointManifest manifest, List<string> problems)
    {
        TrainingState? state;
        try { state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path)); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            problems.Add($"state.json: {(e is JsonException ? "not valid JSON" : "unreadable")} ({e.Message.Split('.')[0]})");
            return null;
        }
        if (state is null) problems.Add("state.json: holds null");
        else if (state.Step < 0 || state.Step != manifest.Step) problems.Add($"state.json: step {state.Step}, the manifest says {manifest.Step}");
        else if (state.Model != manifest.Model) problems.Add($"state.json: model '{state.Model}', the manifest says '{manifest.Model}'");
        else if (!double.IsFinite(state.ElapsedSeconds) || state.ElapsedSeconds < 0 || state.Tokens < 0 || state.Context < 0)
            problems.Add($"state.json: elapsed {state.ElapsedSeconds} s, {state.Tokens} tokens, context {state.Context}: not a state training can reach");
        return problems.Count > 0 ? null : state;
    }

    static CheckpointCheck Corrupt(string folder, string problem) => new(folder, CheckpointStatus.Corrupt, [problem], null, null);
}
