using System.ComponentModel;
using AftDsl.Interop;
using AftLab.Models;
using AftLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab export</c>: writes a run's newest verified checkpoint for PyTorch: the state dict (model.pt, read by
/// <c>torch.load</c>), architecture.json and aftdsl_torch.py, whose <c>load(folder)</c> gives the same model as an nn.Module.
/// </summary>
public sealed class ExportCommand : Command<ExportCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--model <NAME>"), DefaultValue("byte-full"), Description("The sample model whose run to export (aftlab models lists them).")]
        public string Model { get; init; } = "";

        [CommandOption("--format <FORMAT>"), DefaultValue("pytorch"), Description("pytorch: a torch.save state dict, architecture.json and the aftdsl_torch.py module.")]
        public string Format { get; init; } = "";

        [CommandOption("--run <DIR>"), Description("The run folder to read the checkpoint from. Default: runs/<model>.")]
        public string? Run { get; init; }

        [CommandOption("--output <DIR>"), Description("Where to write the export. Default: <run folder>/pytorch.")]
        public string? Output { get; init; }

        public string RunFolder => Run ?? Path.Combine("runs", Model);

        public string ExportFolder => Output ?? Path.Combine(RunFolder, "pytorch");

        public override ValidationResult Validate()
        {
            if (ModelCatalog.All.All(m => m.Name != Model))
                return ValidationResult.Error($"--model: unknown '{Model}'. Choose one of {string.Join(", ", ModelCatalog.All.Select(m => m.Name))}.");
            if (Format != "pytorch")
                return ValidationResult.Error($"--format: unknown '{Format}'. The one format is pytorch.");
            if (Run is { } run && string.IsNullOrWhiteSpace(run)) return ValidationResult.Error("--run must name a folder, got an empty string.");
            if (Output is { } output && string.IsNullOrWhiteSpace(output)) return ValidationResult.Error("--output must name a folder, got an empty string.");
            if (Output is not null && File.Exists(Output)) return ValidationResult.Error($"--output {Output} is a file, not a folder.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var entry = ModelCatalog.Find(settings.Model);
        var (model, state) = TrainedModel.Load(entry, settings.RunFolder, torch.CPU);
        using (model)
        {
            var files = PyTorchExport.Write(model, settings.ExportFolder);
            var megabytes = new FileInfo(files.Weights).Length / 1048576.0;
            AnsiConsole.MarkupLineInterpolated(
                $"[bold]Exported[/] {entry.Name} after {state.Step:N0} steps to {Path.GetFullPath(files.Folder)}: {PyTorchFiles.Weights} ({megabytes:N1} MiB), {PyTorchFiles.Architecture}, {PyTorchReference.FileName}.");
            AnsiConsole.MarkupLineInterpolated(
                $"In Python: [bold]import aftdsl_torch; model = aftdsl_torch.load(\"{Path.GetFullPath(files.Folder)}\")[/] (with that folder on sys.path).");
        }
        return 0;
    }
}
