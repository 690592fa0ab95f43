using AftLab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>A model restored from the last good checkpoint of a run folder, for <c>eval</c> and <c>sample</c>.</summary>
public static class TrainedModel
{
    public static (nn.Module<Tensor, Tensor> Model, TrainingState State) Load(ModelEntry entry, string runFolder, Device device)
    {
        var store = new CheckpointStore(Path.Combine(runFolder, "checkpoints"));
        var latest = store.Latest()
            ?? throw new InvalidOperationException(
                $"No checkpoint in {Path.GetFullPath(store.Folder)}: train one first (aftlab train --model {entry.Name}), or point --output at the run folder that holds it.");
        if (latest.State.Model != entry.Name)
            throw new InvalidOperationException(
                $"{store.Folder} holds a checkpoint of '{latest.State.Model}', not '{entry.Name}': pass --model {latest.State.Model}, or another --output.");
        var model = entry.Create();
        CheckpointStore.Restore(latest.Path, model, optimizer: null);
        model.to(device);
        model.eval();
        return (model, latest.State);
    }

    /// <summary>The byte models' T: as given, else as trained, else the default.</summary>
    public static int Context(Commands.RunSettings settings, TrainingState state) =>
        settings.Context ?? (state.Context > 0 ? state.Context : Commands.RunSettings.DefaultContext);
}
