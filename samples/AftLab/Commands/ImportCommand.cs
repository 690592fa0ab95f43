using System.ComponentModel;
using AftDsl.Interop;
using AftLab.Models;
using AftLab.Runtime;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab import</c>: loads a PyTorch state dict (<c>torch.save(model.state_dict(), path)</c>) into a sample model and
/// writes it as a verified checkpoint of the run folder, where eval, sample, export and <c>train --resume</c> find it.
/// </summary>
public sealed class ImportCommand : Command<ImportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <NAME>"), DefaultValue("byte-full"), Description("The sample model the state dict belongs to (aftlab models lists them).")]
        public string Model { get; init; } = "";

        [CommandOption("--input <FILE>"), Description("The state dict, as torch.save(model.state_dict(), FILE) writes it (an export's model.pt, say).")]
        public string Input { get; init; } = "";

        [CommandOption("--output <DIR>"), Description("Run folder to write the checkpoint into. Default: runs/<model>.")]
        public string? Output { get; init; }

        [CommandOption("--seed <SEED>"), DefaultValue(1), Description("The seed a new run records, for the batches of a later train --resume.")]
        public int Seed { get; init; }

        public string RunFolder => Output ?? Path.Combine("runs", Model);

        public override ValidationResult Validate()
        {
            if (ModelCatalog.All.All(m => m.Name != Model))
                return ValidationResult.Error($"--model: unknown '{Model}'. Choose one of {string.Join(", ", ModelCatalog.All.Select(m => m.Name))}.");
            if (string.IsNullOrWhiteSpace(Input)) return ValidationResult.Error("--input is required: the state-dict file to import.");
            if (!File.Exists(Input)) return ValidationResult.Error($"--input {Input}: no such file.");
            if (Output is { } output && string.IsNullOrWhiteSpace(output)) return ValidationResult.Error("--output must name a folder, got an empty string.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var entry = ModelCatalog.Find(settings.Model);
        using var model = entry.Create();
        // The file first: a state dict that does not fit is refused before anything is written.
        Load(model, settings.Input);
        using var run = RunFolder.Open(settings.RunFolder, entry.Name);
        try
        {
            var checkpoint = Write(model, entry, settings);
            AnsiConsole.MarkupLineInterpolated(
                $"[bold]Imported[/] {Path.GetFullPath(settings.Input)} into {entry.Name}: {checkpoint} in {Path.GetFullPath(settings.RunFolder)} (eval, sample, export and train --resume use it).");
            return 0;
        }
        catch when (run.IsNew && !Directory.Exists(Path.Combine(settings.RunFolder, "checkpoints")))
        {
            run.RemoveWhatThisRunCreated();                                 // a failed import leaves nothing behind
            throw;
        }
    }

    static void Load(torch.nn.Module model, string path)
    {
        try
        {
            PyTorchImport.Load(model, path);
        }
        catch (StateDictMismatchException e)
        {
            throw new AftLabException($"{e.OneLine} Nothing was imported.", ExitCodes.DataError, e);
        }
        catch (StateDictFormatException e)
        {
            throw new AftLabException(e.Message, ExitCodes.DataError, e);
        }
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (!torch.isfinite(parameter).all().item<bool>())
                throw new AftLabException($"{path}: {name} holds values that are not finite; nothing was imported.", ExitCodes.DataError);
    }

    // After the newest checkpoint (if any), so that every verb reads the imported weights; a run's position (tokens, time, seed,
    // context) carries over, so that train --resume continues its schedule from there with these weights.
    static string Write(torch.nn.Module model, ModelEntry entry, Settings settings)
    {
        var store = new CheckpointStore(Path.Combine(settings.RunFolder, "checkpoints"), TrainedModel.Notice, isWriter: true);
        var latest = store.Find();
        if (latest is not null && latest.State.Model != entry.Name)
            throw new CheckpointException(
                $"{store.Folder} holds checkpoints of '{latest.State.Model}', not '{entry.Name}': pass --model {latest.State.Model}, or another --output.");
        var state = latest is null
            ? new TrainingState(entry.Name, 0, 0, 0, settings.Seed, Dtype: null)              // untrained here: any --dtype may resume it
            : latest.State with { Step = latest.State.Step + 1 };
        // A fresh optimizer: AdamW's moments belong to the weights they were gathered on, not to these.
        using var optimizer = torch.optim.AdamW(model.parameters(), TrainingTasks.DefaultLearningRate(entry.Family), weight_decay: 0.01);
        store.Save(model, optimizer, state);
        return CheckpointName.Of(state.Step);
    }
}
