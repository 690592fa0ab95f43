using System.Globalization;
using AftLab.Runtime;
using AftLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary><c>aftlab eval</c>: the full held-out metrics of a run's last good checkpoint.</summary>
public sealed class EvalCommand : Command<RunSettings>
{
    public override int Execute(CommandContext context, RunSettings settings, CancellationToken cancellationToken)
    {
        var device = DeviceBinding.Use(settings.Device, settings.LibTorch);
        KernelChoice.Apply(settings.Kernels, device);
        var entry = settings.Entry;
        var (model, state) = TrainedModel.Load(entry, settings.RunFolder, device);
        var (task, data) = TrainingTasks.Create(entry, settings.Data, settings.Batch ?? TrainingTasks.DefaultBatch(entry.Family), TrainedModel.Context(settings, state), settings.Padded);
        AnsiConsole.MarkupLineInterpolated($"[bold]Evaluating[/] {entry.Name} after {state.Step:N0} steps on {data}.");
        var metrics = AnsiConsole.Status().Start("Evaluating…", _ => task.Evaluate(model, device, quick: false));
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        foreach (var (name, value) in metrics)
            table.AddRow(Markup.Escape(name), value.ToString(name.Contains("top-1") ? "P2" : "F4", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        return 0;
    }
}
