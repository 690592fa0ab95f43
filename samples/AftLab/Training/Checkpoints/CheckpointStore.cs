using System.Text.Json;
using AftLab.Runtime;
using TorchSharp;

namespace AftLab.Training.Checkpoints;

/// <summary>
/// Checkpoints that survive a crash at any moment and are never used when damaged. Each is written into a
/// temporary folder (<c>checkpoint-000120.partial-PID/</c>: model.dat, optimizer.dat, state.json, then
/// manifest.json with every file's length and SHA-256, written last and atomically), checked, renamed to
/// <c>checkpoint-000120/</c>, and only then does the pointer file <c>latest</c> move to it. A folder of that name
/// without a manifest is therefore damage (or an older aftlab's), not an interrupted write. The pointer is a hint:
/// <see cref="Find"/> takes the newest checkpoint that verifies, and says so when that is not the one named.
/// A checkpoint that fails verification is renamed aside (<c>.corrupt</c>) and reported, never used or deleted;
/// older checkpoints are deleted only once a newer one has verified, and the new one and the verified one
/// before it are always kept.
/// </summary>
/// <param name="folder">The run's checkpoints folder.</param>
/// <param name="notice">Where to say what was skipped, set aside or chosen instead of <c>latest</c>.</param>
/// <param name="isWriter">True for the run's one writer (it holds the run lock): only it renames and deletes.</param>
public sealed class CheckpointStore(string folder, Action<string>? notice = null, bool isWriter = false)
{
    const string Pointer = "latest";
    const long SpaceMargin = 16L << 20;

    /// <summary>Test hook (AFTLAB_CRASH_IN_CHECKPOINT): "1" dies after writing the files and before the manifest; "pruning" dies
    /// half-way through deleting an old checkpoint; "disk-full" fails like a full disk after writing model.dat.</summary>
    static string? CrashHook => Environment.GetEnvironmentVariable("AFTLAB_CRASH_IN_CHECKPOINT");

    /// <summary>Test hook (AFTLAB_FREE_BYTES): the free space to assume instead of asking the file system.</summary>
    static long? FreeBytesOverride => long.TryParse(Environment.GetEnvironmentVariable("AFTLAB_FREE_BYTES"), out var free) ? free : null;

    readonly Action<string> say = notice ?? (_ => { });

    public string Folder { get; } = folder;

    /// <summary>
    /// The newest checkpoint that verifies, or null when the folder holds no checkpoint at all (interrupted writes do not count).
    /// Throws <see cref="CheckpointException"/> when there are checkpoints and none verifies.
    /// </summary>
    public CheckpointSelection? Find()
    {
        if (!Directory.Exists(Folder)) return null;
        var (hinted, pointerProblem) = ReadPointer();
        var setAsideBefore = Directory.GetDirectories(Folder, "*" + CheckpointName.CorruptSuffix + "*").Select(Path.GetFileName).Order().ToList();
        var skipped = new List<string>();
        foreach (var (step, path) in Numbered().OrderByDescending(c => c.Step))
        {
            var check = CheckpointCheck.Of(path);
            if (check.Status == CheckpointStatus.Verified)
            {
                skipped.ForEach(say);
                var name = Path.GetFileName(path);
                if (name != hinted)
                    say($"Using {name}, the newest checkpoint that verifies: {pointerProblem ?? PointerDisagreement(hinted!, step)}.");
                return new CheckpointSelection(path, check.State!, check.Manifest!);
            }
            if (Directory.Exists(path))                                     // else pruned by the run's writer while we looked: not damage
                skipped.Add(SetAside(check));
        }
        if (skipped.Count == 0 && setAsideBefore.Count == 0)
        {
            var traces = TracesOfCheckpoints(hinted);
            if (traces.Count == 0) return null;                             // a run that never published a checkpoint
            // The run had one (its pointer names it, or it was renamed out of the way): starting over would drop its progress.
            throw new CheckpointException(
                $"No checkpoint in {Folder}, but {string.Join(" and ", traces)}. " +
                "Move the checkpoint back, or delete the checkpoints folder (or choose another --output) to start afresh.");
        }
        throw new CheckpointException(
            $"No checkpoint in {Folder} verifies: {string.Join(" ", skipped)}" +
            $"{(setAsideBefore.Count > 0 ? $" Set aside earlier: {string.Join(", ", setAsideBefore)}." : "")} " +
            "Restore the files from a backup, or delete the checkpoints folder (or choose another --output) to start afresh.");
    }

    /// <summary>The newest verified checkpoint's folder and state, or null: <see cref="Find"/> without the details.</summary>
    public (string Path, TrainingState State)? Latest() => Find() is { } found ? (found.Path, found.State) : null;

    /// <summary>Writes a checkpoint of <paramref name="state"/>.Step, publishes it, and prunes what it supersedes.</summary>
    public void Save(torch.nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, TrainingState state)
    {
        Directory.CreateDirectory(Folder);
        var name = CheckpointName.Of(state.Step);
        var target = Path.Combine(Folder, name);
        if (CheckpointCheck.Of(target).Status == CheckpointStatus.Verified)
            return;                                                         // nothing trained since: never rewrite a good one
        EnsureSpace(model);
        var temporary = target + CheckpointName.PartialSuffix + Environment.ProcessId;
        try
        {
            if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);   // a dead process of the same id
            Directory.CreateDirectory(temporary);
            model.save(Path.Combine(temporary, "model.dat"));
            if (CrashHook == "disk-full")
                throw new IOException("No space left on device (AFTLAB_CRASH_IN_CHECKPOINT=disk-full)");
            optimizer.save_state_dict(Path.Combine(temporary, "optimizer.dat"));
            File.WriteAllText(Path.Combine(temporary, "state.json"), JsonSerializer.Serialize(state));
            if (CrashHook == "1")
                Environment.FailFast("AFTLAB_CRASH_IN_CHECKPOINT: dying after writing the checkpoint files and before publishing them.");
            var parameters = model.named_parameters().Select(p => new ManifestParameter(p.name, p.parameter.shape)).ToList();
            var manifest = CheckpointManifest.Describe(temporary, state.Model, state.Step, parameters);
            AtomicFile.WriteAllText(Path.Combine(temporary, CheckpointManifest.FileName), manifest.ToJson());
            var written = CheckpointCheck.Of(temporary);
            if (written.Status != CheckpointStatus.Verified)
                throw new IOException($"the checkpoint just written does not verify: {written.Summary}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new CheckpointWriteException(
                $"Could not write {name} in {Folder}: {e.Message}. {PreviousNote()} and no partial checkpoint is left.", e);
        }
        if (Directory.Exists(target)) say(SetAside(CheckpointCheck.Of(target)));   // an unverified folder of the same step: kept, aside
        try
        {
            Directory.Move(temporary, target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new CheckpointWriteException(
                $"Could not publish {name} in {Folder}: {e.Message}. {PreviousNote()} and no partial checkpoint is left.", e);
        }
        // Published and verified: what follows only tidies up, and a failure there must not end a healthy run.
        try
        {
            AtomicFile.WriteAllText(Path.Combine(Folder, Pointer), name);
            Prune(state.Step);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            say($"{name} is written and verifies, but moving {Pointer} or pruning failed ({e.Message}); resume finds the newest verified checkpoint regardless.");
        }
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> (and <paramref name="optimizer"/>), after verifying every file
    /// against the manifest and the manifest's parameter shapes against the model; refuses, naming the file and what
    /// differs, rather than load anything damaged or foreign.
    /// </summary>
    public static void Restore(string path, torch.nn.Module model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        var name = System.IO.Path.GetFileName(path);
        var check = CheckpointCheck.Of(path);
        if (check.Status != CheckpointStatus.Verified)
            throw new CheckpointException($"{path} does not verify: {check.Summary}.");
        var expected = check.Manifest!.Parameters.ToDictionary(p => p.Name, p => p.Shape);
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        var differences = actual.Where(p => !expected.ContainsKey(p.Key)).Select(p => $"{p.Key} is not in the checkpoint")
            .Concat(expected.Where(p => !actual.ContainsKey(p.Key)).Select(p => $"{p.Key} is not in the model"))
            .Concat(actual.Where(p => expected.TryGetValue(p.Key, out var shape) && !shape.SequenceEqual(p.Value))
                .Select(p => $"{p.Key} is [{string.Join(", ", expected[p.Key])}] in the checkpoint, [{string.Join(", ", p.Value)}] in the model"))
            .ToList();
        if (differences.Count > 0)
            throw new CheckpointException($"{name} ('{check.Manifest.Model}') does not fit this model: {string.Join("; ", differences.Take(5))}.");
        Load(System.IO.Path.Combine(path, "model.dat"), file => InPlaceWeights.Load(model, file));   // the optimizer stays bound to these tensors
        if (optimizer is not null)
            Load(System.IO.Path.Combine(path, "optimizer.dat"), file => optimizer.load_state_dict(file));
        using (torch.no_grad())
            foreach (var (parameterName, parameter) in model.named_parameters())
                if (!torch.isfinite(parameter).all().item<bool>())
                    throw new CheckpointException($"{System.IO.Path.Combine(path, "model.dat")}: parameter {parameterName} holds values that are not finite.");
    }

    static void Load(string file, Action<string> load)
    {
        try { load(file); }
        catch (Exception e) when (e is not AftLabException)
        {
            throw new CheckpointException($"{file}: could not be loaded ({e.Message}).", e);
        }
    }

    (string? Name, string? Problem) ReadPointer()
    {
        var pointer = Path.Combine(Folder, Pointer);
        if (!File.Exists(pointer)) return (null, $"{Pointer} is missing");
        string text;
        try { text = File.ReadAllText(pointer).Trim(); }
        catch (IOException e) { return (null, $"{Pointer} is unreadable ({e.Message})"); }
        var shown = text.Length > 60 ? text[..60] + "…" : text;
        if (CheckpointName.StepOf(text) is null) return (null, $"{Pointer} holds '{shown}', which does not name a checkpoint of this run");
        if (!Directory.Exists(Path.Combine(Folder, text))) return (text, $"{Pointer} names {text}, which does not exist");
        return (text, null);
    }

    // What says that a checkpoint was published here although none is left: the pointer naming one, and folders named
    // like a checkpoint with something appended that is not the store's own (a write or deletion in progress).
    List<string> TracesOfCheckpoints(string? hinted)
    {
        var traces = new List<string>();
        if (hinted is not null) traces.Add($"{Pointer} names {hinted}");
        var renamed = Directory.GetDirectories(Folder).Select(Path.GetFileName).OfType<string>()
            .Where(n => n.StartsWith("checkpoint-", StringComparison.Ordinal) && CheckpointName.StepOf(n) is null && !CheckpointName.IsLeftover(n)
                && !n.Contains(CheckpointName.CorruptSuffix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        if (renamed.Count > 0) traces.Add($"{string.Join(", ", renamed)} look{(renamed.Count == 1 ? "s" : "")} like a renamed checkpoint");
        return traces;
    }

    static string PointerDisagreement(string hinted, int chosenStep) =>
        CheckpointName.StepOf(hinted) < chosenStep
            ? $"{Pointer} names {hinted}, an older one (the run died between writing a checkpoint and moving the pointer)"
            : $"{Pointer} names {hinted}, which does not verify";

    IEnumerable<(int Step, string Path)> Numbered() =>
        Directory.GetDirectories(Folder).Select(p => (Step: CheckpointName.StepOf(Path.GetFileName(p)), Path: p))
            .Where(c => c.Step is not null).Select(c => (c.Step!.Value, c.Path));

    // Keep the new checkpoint and the newest verified one before it; remove older verified ones and every leftover of an
    // interrupted write or deletion. Nothing that fails verification is removed: it is set aside.
    void Prune(int newStep)
    {
        foreach (var leftover in Directory.GetDirectories(Folder).Where(p => CheckpointName.IsLeftover(Path.GetFileName(p))))
            Retire(leftover);
        var keptPrevious = false;
        foreach (var (step, path) in Numbered().Where(c => c.Step != newStep).OrderByDescending(c => c.Step))
        {
            var check = CheckpointCheck.Of(path);
            if (check.Status != CheckpointStatus.Verified) say(SetAside(check));
            else if (step < newStep && keptPrevious) Retire(path);
            else if (step < newStep) keptPrevious = true;
        }
    }

    /// <summary>Renames a checkpoint that failed verification aside (only the writer does) and returns the sentence that reports it.</summary>
    string SetAside(CheckpointCheck check)
    {
        var name = Path.GetFileName(check.Path);
        if (!isWriter)
            return $"Skipping {name}: it fails verification ({check.Summary}).";
        var aside = check.Path + CheckpointName.CorruptSuffix;
        for (var n = 2; Directory.Exists(aside); n++) aside = $"{check.Path}{CheckpointName.CorruptSuffix}-{n}";
        Directory.Move(check.Path, aside);
        return $"{name} fails verification ({check.Summary}) and was renamed to {Path.GetFileName(aside)}.";
    }

    // Deletion in two steps, so that a kill half-way leaves a *.pruning folder (a known leftover), never a damaged checkpoint.
    void Retire(string path)
    {
        var doomed = path.EndsWith(CheckpointName.PruningSuffix, StringComparison.Ordinal) ? path : path + CheckpointName.PruningSuffix;
        if (doomed != path)
        {
            if (Directory.Exists(doomed)) Directory.Delete(doomed, recursive: true);
            Directory.Move(path, doomed);
        }
        if (CrashHook == "pruning" && Directory.GetFiles(doomed).FirstOrDefault() is { } first)
        {
            File.Delete(first);
            Environment.FailFast("AFTLAB_CRASH_IN_CHECKPOINT=pruning: dying half-way through deleting an old checkpoint.");
        }
        Directory.Delete(doomed, recursive: true);
    }

    void EnsureSpace(torch.nn.Module model)
    {
        var previous = Numbered().OrderByDescending(c => c.Step).Select(c => ReadManifest(c.Path)).FirstOrDefault(m => m is not null);
        // Without an earlier checkpoint: the weights and AdamW's two moments, all float32 at most.
        var needed = (previous?.TotalBytes ?? 3 * model.parameters().Sum(p => p.numel() * p.element_size())) + SpaceMargin;
        var free = FreeBytesOverride ?? new DriveInfo(Path.GetFullPath(Folder)).AvailableFreeSpace;
        if (free < needed)
            throw new CheckpointWriteException(
                $"Not enough disk space for the next checkpoint in {Folder}: it needs about {needed / 1048576.0:N1} MiB, {free / 1048576.0:N1} MiB are free. " +
                $"{PreviousNote()}; free some space and resume with --resume.");
    }

    static CheckpointManifest? ReadManifest(string folder)
    {
        var path = Path.Combine(folder, CheckpointManifest.FileName);
        try { return File.Exists(path) ? CheckpointManifest.Parse(File.ReadAllText(path), out _) : null; }
        catch (IOException) { return null; }
    }

    string PreviousNote()
    {
        var newest = Numbered().OrderByDescending(c => c.Step).Select(c => c.Path).FirstOrDefault(p => CheckpointCheck.Of(p).Status == CheckpointStatus.Verified);
        return newest is null ? "There is no earlier checkpoint" : $"The previous checkpoint, {Path.GetFileName(newest)}, is intact";
    }

    static void TryDelete(string path)
    {
        try { if (Directory.Exists(path)) Directory.Delete(path, recursive: true); }
        catch (IOException) { /* the next verified save removes it as a leftover */ }
    }
}
