using System.Text.Json;
using AftLab.Runtime;
using TorchSharp;

namespace AftLab.Training;

/// <summary>Where training stood when a checkpoint was written.</summary>
/// <param name="Context">The byte models' sequence length T, which eval and sample reuse; 0 for other families.</param>
public sealed record TrainingState(string Model, int Step, double ElapsedSeconds, long Tokens, int Seed, int Context = 0);

/// <summary>
/// Checkpoints that survive a crash at any moment: each is written whole into its own folder
/// (<c>checkpoint-000120/</c>: model.dat, optimizer.dat, state.json), and only then does the one-line pointer
/// file <c>latest</c> move to it, by writing a temporary file and renaming it over the old one (atomic on
/// POSIX). A kill -9 during a write leaves the pointer on the last complete checkpoint; the half-written
/// folder is ignored and removed by the next save. The new checkpoint and the one it replaced are kept.
/// </summary>
public sealed class CheckpointStore(string folder)
{
    const string Pointer = "latest";

    /// <summary>Set by tests (AFTLAB_CRASH_IN_CHECKPOINT=1) to die abruptly between writing a checkpoint and publishing it.</summary>
    static readonly bool CrashMidway = Environment.GetEnvironmentVariable("AFTLAB_CRASH_IN_CHECKPOINT") == "1";

    public string Folder { get; } = folder;

    public void Save(torch.nn.Module model, TorchSharp.Modules.OptimizerHelper optimizer, TrainingState state)
    {
        Directory.CreateDirectory(Folder);
        var name = $"checkpoint-{state.Step:D6}";
        var previous = Latest();
        if (previous?.State.Step == state.Step)
            return;                                                         // nothing trained since: never rewrite the good one in place
        var target = Path.Combine(Folder, name);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.CreateDirectory(target);
        model.save(Path.Combine(target, "model.dat"));
        optimizer.save_state_dict(Path.Combine(target, "optimizer.dat"));
        File.WriteAllText(Path.Combine(target, "state.json"), JsonSerializer.Serialize(state));
        if (CrashMidway)
            Environment.FailFast("AFTLAB_CRASH_IN_CHECKPOINT: dying after writing the checkpoint files and before publishing them.");
        AtomicFile.WriteAllText(Path.Combine(Folder, Pointer), name);
        Prune(keep: [name, previous is { } good ? Path.GetFileName(good.Path) : name]);
    }

    /// <summary>The newest complete checkpoint, or null when there is none.</summary>
    public (string Path, TrainingState State)? Latest()
    {
        var pointer = Path.Combine(Folder, Pointer);
        if (!File.Exists(pointer)) return null;
        var path = Path.Combine(Folder, File.ReadAllText(pointer).Trim());
        var statePath = Path.Combine(path, "state.json");
        if (!File.Exists(statePath))
            throw new InvalidDataException($"{pointer} names {path}, which has no state.json: the checkpoint folder was changed by hand.");
        return (path, JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(statePath))!);
    }

    public static void Restore(string path, torch.nn.Module model, TorchSharp.Modules.OptimizerHelper? optimizer)
    {
        model.load(System.IO.Path.Combine(path, "model.dat"));
        optimizer?.load_state_dict(System.IO.Path.Combine(path, "optimizer.dat"));
    }

    // Keep the new checkpoint and the one before it; drop older ones and any folder a crash left unpublished.
    void Prune(string[] keep)
    {
        foreach (var folder in Directory.GetDirectories(Folder, "checkpoint-*").Where(f => !keep.Contains(Path.GetFileName(f))))
            Directory.Delete(folder, recursive: true);
    }
}
