using AftLab.Models;
using AftLab.Training.Checkpoints;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>A model restored from the newest verified checkpoint of a run folder, for <c>eval</c> and <c>sample</c>.</summary>
public static class TrainedModel
{
    public static (nn.Module<Tensor, Tensor> Model, TrainingState State) Load(ModelEntry entry, string runFolder, Device device)
    {
        // Read-only: a trainer may be writing to this run, so nothing is renamed or deleted here.
        var store = new CheckpointStore(Path.Combine(runFolder, "checkpoints"), Notice, isWriter: false);
        var latest = store.Find()
            ?? throw new CheckpointException(
                $"No checkpoint in {Path.GetFullPath(store.Folder)}: train one first (aftlab train --model {entry.Name}), or point --output at the run folder that holds it.");
        if (latest.State.Model != entry.Name)
            throw new CheckpointException(
                $"{store.Folder} holds a checkpoint of '{latest.State.Model}', not '{entry.Name}': pass --model {latest.State.Model}, or another --output.");
        var model = entry.Create();
        CheckpointStore.Restore(latest.Path, model, optimizer: null);
        model.to(device);
        model.eval();
        return (model, latest.State);
    }

    /// <summary>How checkpoint choices are announced on the console.</summary>
    public static void Notice(string text) => AnsiConsole.MarkupLineInterpolated($"[yellow]Checkpoint:[/] {text}");

    /// <summary>The byte models' T: as given, else as trained, else the default.</summary>
    public static int Context(Commands.RunSettings settings, TrainingState state) =>
        settings.Context ?? (state.Context > 0 ? state.Context : Commands.RunSettings.DefaultContext);
}
