using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AftDsl.Distributed;
using AftLab.Models;
using AftLab.Runtime;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab train</c>: trains a sample model for a time or step budget with a progress bar, metrics (CSV,
/// TensorBoard, PNG), atomic checkpoints and <c>--resume</c>; ends with the held-out metrics (and, for a byte
/// model, a generated continuation). Under <c>mpirun -np N</c> (or a torchrun-style environment) it trains data-parallel:
/// --batch per rank, rank 0 alone writing and printing (docs/data-parallel.md).
/// </summary>
public sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : RunSettings
    {
        [CommandOption("--minutes <MINUTES>"), DefaultValue(3.0), Description("Training time budget in minutes (with --resume: in total).")]
        public double Minutes { get; init; }

        [CommandOption("--steps <STEPS>"), Description("Stop after this many steps, even if time is left.")]
        public int? Steps { get; init; }

        [CommandOption("--lr <RATE>"), Description("Peak AdamW learning rate. Default: 2e-3 (byte, pixel), 1e-3 (image).")]
        public double? LearningRate { get; init; }

        [CommandOption("--resume"), Description("Continue from the newest checkpoint that verifies in the run folder (a finished run: nothing to do).")]
        public bool Resume { get; init; }

        [CommandOption("--checkpoint-minutes <MINUTES>"), DefaultValue(2.0), Description("Minutes between checkpoints (and one at the end).")]
        public double CheckpointMinutes { get; init; }

        [CommandOption("--eval-minutes <MINUTES>"), DefaultValue(1.0), Description("Minutes between quick held-out evaluations.")]
        public double EvalMinutes { get; init; }

        [CommandOption("--sample-bytes <COUNT>"), DefaultValue(400), Description("Byte models: length of the continuation printed at the end (0: none).")]
        public int SampleBytes { get; init; }

        [CommandOption("--dtype <DTYPE>"), DefaultValue(DtypeChoice.Float32),
         Description("float32, or bfloat16: mixed precision, the forward and backward in bfloat16 on a working copy, float32 master weights, gradients and loss (checkpoints hold float32).")]
        public string Dtype { get; init; } = DtypeChoice.Float32;

        /// <summary>A year: more than any run here needs, and far from TimeSpan's limit.</summary>
        const double MaxMinutes = 525_600;

        public override ValidationResult Validate()
        {
            var own = OptionRange.First(
                OptionRange.Real("--minutes", Minutes, 0, MaxMinutes, minExclusive: true),
                OptionRange.Whole("--steps", Steps, 1, 100_000_000),
                OptionRange.Real("--lr", LearningRate, 0, 1, minExclusive: true),
                OptionRange.Real("--checkpoint-minutes", CheckpointMinutes, 0, MaxMinutes, minExclusive: true),
                OptionRange.Real("--eval-minutes", EvalMinutes, 0, MaxMinutes, minExclusive: true),
                OptionRange.Whole("--sample-bytes", SampleBytes, 0, 100_000));
            if (!own.Successful) return own;
            if (DtypeChoice.Problem(Dtype) is { } dtype) return ValidationResult.Error(dtype);
            return base.Validate();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        DataParallelLaunch.Run(settings.Device, settings.LibTorch, alwaysJoin: false, (device, parallel) =>
        {
            if (parallel is not null)                                       // the first line: which backend, how many ranks
                AnsiConsole.MarkupLineInterpolated(
                    $"[bold]Data parallel:[/] {parallel.Backend}, world size {parallel.WorldSize}; batch {settings.Batch ?? TrainingTasks.DefaultBatch(settings.Entry.Family)} per rank.");
            KernelChoice.Apply(settings.Kernels, device);
            return Execute(context, settings, device, parallel);
        });

    static int Execute(CommandContext context, Settings settings, torch.Device device, DataParallel? parallel)
    {
        var entry = settings.Entry;
        var (isMain, worldSize) = (parallel?.IsMain ?? true, parallel?.WorldSize ?? 1);
        var batch = settings.Batch ?? TrainingTasks.DefaultBatch(entry.Family);
        var contextLength = settings.Context ?? RunSettings.DefaultContext;
        // The data first: a data set that cannot be used is refused before anything is written. Every rank draws the combined batch and keeps its share.
        var (task, data) = TrainingTasks.Create(entry, settings.Data, batch * worldSize, contextLength, settings.Padded);
        AnsiConsole.MarkupLineInterpolated($"[bold]Data:[/] {data}.");

        if (!isMain)
            return Train(context, settings, task, data, device, parallel);
        using var run = RunFolder.Open(settings.RunFolder, entry.Name);
        try
        {
            return Train(context, settings, task, data, device, parallel);
        }
        catch when (run.IsNew && !HasCheckpoint(settings.RunFolder))
        {
            run.RemoveWhatThisRunCreated();                                 // a failed start leaves nothing behind
            throw;
        }
    }

    // Any numbered folder with a manifest counts, verified or not: this decides whether a failed start may delete the run
    // folder, and a checkpoint that fails verification must be kept for the user, never deleted with it.
    static bool HasCheckpoint(string runFolder)
    {
        var folder = Path.Combine(runFolder, "checkpoints");
        return Directory.Exists(folder) && Directory.GetDirectories(folder)
            .Any(d => CheckpointName.StepOf(Path.GetFileName(d)) is not null && File.Exists(Path.Combine(d, CheckpointManifest.FileName)));
    }

    static int Train(CommandContext context, Settings settings, ITrainingTask task, string data, torch.Device device, DataParallel? parallel)
    {
        var entry = settings.Entry;
        var contextLength = settings.Context ?? RunSettings.DefaultContext;
        torch.manual_seed(settings.Seed);
        var model = entry.Create();
        model.to(device);
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Model:[/] {entry.Name}, {entry.Description}, {entry.ParameterCount:N0} parameters; batch {settings.Batch ?? TrainingTasks.DefaultBatch(entry.Family)}{(task is TextTask t ? $" × T = {t.Context}" : "")}{(parallel is { WorldSize: > 1 } p ? $" per rank, {p.WorldSize} ranks" : "")}, on {device}{(device.type == DeviceType.CPU ? $" ({torch.get_num_threads()} threads)" : "")}{(settings.Dtype == DtypeChoice.Float32 ? "" : $", {settings.Dtype} mixed precision (float32 master weights)")}.");
        var cuda = device.type == DeviceType.CUDA && parallel is not { IsMain: false };
        var peakUnavailable = cuda ? GpuMemoryPeak.Unavailable() : null;
        if (peakUnavailable is not null)
            AnsiConsole.MarkupLineInterpolated($"[yellow]Memory:[/] {peakUnavailable}");

        var options = new TrainingOptions(entry.Name, TimeSpan.FromMinutes(settings.Minutes), settings.Steps,
            settings.LearningRate ?? TrainingTasks.DefaultLearningRate(entry.Family), settings.Seed, contextLength, settings.RunFolder, settings.Resume,
            TimeSpan.FromMinutes(settings.CheckpointMinutes), TimeSpan.FromMinutes(settings.EvalMinutes), Notice: TrainedModel.Notice, Dtype: settings.Dtype);
        var combinedBatch = (settings.Batch ?? TrainingTasks.DefaultBatch(entry.Family)) * (parallel?.WorldSize ?? 1);
        if (parallel is { IsMain: false })
        {
            Trainer.Train(model, task, options, device, (_, _) => { }, parallel, combinedBatch, entry.Create);
            return ExitCodes.Success;                                       // rank 0 reports and writes
        }
        var summary = ProgressDisplay.Run($"Training {entry.Name}", report => Trainer.Train(model, task, options, device, report, parallel, combinedBatch, entry.Create));
        if (summary.AlreadyFinished)
        {
            var budget = $"{summary.Elapsed:hh\\:mm\\:ss} of {settings.Minutes} minutes{(settings.Steps is { } s ? $", --steps {s}" : "")}";
            AnsiConsole.MarkupLine("[bold]Nothing to do:[/] " + Markup.Escape(
                $"{Path.GetFullPath(settings.RunFolder)} already finished its budget at step {summary.Steps:N0} ({budget}); its files are untouched. " +
                "Raise --steps or --minutes to train further."));
            return ExitCodes.Success;
        }

        var metrics = string.Join(", ", summary.Evaluation.Select(e => $"{e.Key} {e.Value.ToString(e.Key.Contains("top-1") ? "P2" : "F3", CultureInfo.InvariantCulture)}"));
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Trained[/] {summary.Steps:N0} steps ({summary.Tokens:N0} {(entry.Family == ModelFamily.Classifier ? "images" : "tokens")}) in {summary.Elapsed:hh\\:mm\\:ss}: {summary.Tokens / summary.Elapsed.TotalSeconds:N0}/s, train {summary.TrainMetric:F3} {task.Metric}; [bold]{metrics}[/].");
        // The whole process's peak, read after the final evaluation and checkpoint: what a run of these settings needs.
        long? peak = null;
        if (cuda && peakUnavailable is null)
        {
            peak = GpuMemoryPeak.Read(device, out var problem);
            if (peak is { } bytes)
                AnsiConsole.MarkupLineInterpolated($"[bold]Peak GPU memory:[/] {GpuMemoryPeak.Describe(bytes)} on {device}, the CUDA memory pool's high-water mark.");
            else
                AnsiConsole.MarkupLineInterpolated($"[yellow]Memory:[/] {problem}");
        }
        var results = new RunResults(entry.Name, entry.ParameterCount, data, summary.Steps, summary.Tokens, summary.Elapsed.TotalSeconds, summary.TrainMetric, summary.Evaluation,
            "aftlab " + string.Join(" ", context.Arguments), settings.Dtype, peak);
        AtomicFile.WriteAllText(Path.Combine(settings.RunFolder, "results.json"), JsonSerializer.Serialize(results, FiniteJson.Indented));
        AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] metrics.csv, tensorboard/, curves.png, results.json and checkpoints/ to {Path.GetFullPath(settings.RunFolder)}.");

        if (entry.Family == ModelFamily.ByteLm && settings.SampleBytes > 0 && task is TextTask text)
        {
            var prompt = "Bread \\Bread\\, n. ";
            var continuation = TextSampler.Continue(model, System.Text.Encoding.ASCII.GetBytes(prompt), text.Context, settings.SampleBytes, 0.8, settings.Seed, device);
            AnsiConsole.MarkupLine("[bold]Continuation[/] (temperature 0.8):");
            Console.WriteLine(prompt + TextSampler.Printable(continuation));
        }
        return ExitCodes.Success;
    }
}

/// <summary>What a training run reports in results.json, for the tables of docs/results.md.</summary>
/// <param name="Dtype">What the steps ran in (float32, or bfloat16 mixed precision); older results have none and read as float32.</param>
/// <param name="PeakGpuMemoryBytes">The training process's peak GPU memory (<see cref="GpuMemoryPeak"/>); left out where there is none (a CPU run, or a CUDA run without the pool allocator).</param>
public sealed record RunResults(string Model, long Parameters, string Data, int Steps, long Tokens, double Seconds, double TrainMetric,
    IReadOnlyDictionary<string, double> Evaluation, string Command, string Dtype = DtypeChoice.Float32,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? PeakGpuMemoryBytes = null);
