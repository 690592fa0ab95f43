using System.ComponentModel;
using System.Text;
using AftLab.Data;
using AftLab.Models;
using AftLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab train</c>: trains a small causal AFT-full byte-level language model for a fixed time,
/// reports held-out bits per byte, saves the weights, and prints a generated continuation.
/// </summary>
public sealed class TrainCommand : Command<TrainCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--minutes <MINUTES>"), DefaultValue(3.0), Description("Training time budget in minutes.")]
        public double Minutes { get; init; }

        [CommandOption("--steps <STEPS>"), Description("Stop after this many steps, even if time is left.")]
        public int? Steps { get; init; }

        [CommandOption("--depth <LAYERS>"), DefaultValue(2), Description("Number of pre-LN AFT-full blocks.")]
        public int Depth { get; init; }

        [CommandOption("--batch <SEQUENCES>"), DefaultValue(16), Description("Sequences per step.")]
        public int Batch { get; init; }

        [CommandOption("--context <BYTES>"), DefaultValue(128), Description("Training sequence length T (at most 256, the mixer's maxLength).")]
        public int Context { get; init; }

        [CommandOption("--lr <RATE>"), DefaultValue(2e-3), Description("Peak AdamW learning rate.")]
        public double LearningRate { get; init; }

        [CommandOption("--seed <SEED>"), DefaultValue(1), Description("Seed of weights, batches and sampling.")]
        public int Seed { get; init; }

        [CommandOption("--prompt <TEXT>"), DefaultValue("Bread \\Bread\\, n. "), Description("Text the generated continuation starts from.")]
        public string Prompt { get; init; } = "";

        [CommandOption("--sample-bytes <COUNT>"), DefaultValue(400), Description("Length of the generated continuation.")]
        public int SampleBytes { get; init; }

        [CommandOption("--temperature <T>"), DefaultValue(0.8), Description("Sampling temperature; lower is more conservative.")]
        public double Temperature { get; init; }

        [CommandOption("--output <DIR>"), DefaultValue("runs/charlm"), Description("Folder for the trained weights (model.dat).")]
        public string Output { get; init; } = "";

        public override ValidationResult Validate()
        {
            if (Minutes <= 0) return ValidationResult.Error($"--minutes must be positive, got {Minutes}.");
            if (Steps is <= 0) return ValidationResult.Error($"--steps must be positive, got {Steps}.");
            if (Depth < 1) return ValidationResult.Error($"--depth must be at least 1, got {Depth}.");
            if (Batch < 1) return ValidationResult.Error($"--batch must be at least 1, got {Batch}.");
            if (Context < 2 || Context > ByteLanguageModel.Context)
                return ValidationResult.Error($"--context must be between 2 and {ByteLanguageModel.Context} (LmMixer's maxLength), got {Context}.");
            if (LearningRate <= 0) return ValidationResult.Error($"--lr must be positive, got {LearningRate}.");
            if (Temperature <= 0) return ValidationResult.Error($"--temperature must be positive, got {Temperature}.");
            if (SampleBytes < 0) return ValidationResult.Error($"--sample-bytes cannot be negative, got {SampleBytes}.");
            if (string.IsNullOrEmpty(Prompt)) return ValidationResult.Error("--prompt must not be empty.");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var corpus = ByteCorpus.FromEmbeddedExcerpt();
        AnsiConsole.MarkupLineInterpolated($"[bold]Data:[/] {corpus.Description}: {corpus.TrainBytes:N0} bytes for training, {corpus.HeldOutBytes:N0} held out.");

        torch.manual_seed(settings.Seed);
        var model = new ByteLanguageModel(settings.Depth);
        var parameters = model.parameters().Sum(p => p.numel());
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Model:[/] causal AFT-full byte LM, {settings.Depth} blocks × {LmMixer.Dim} wide, {parameters:N0} parameters; T = {settings.Context}, batch {settings.Batch}, {torch.get_num_threads()} CPU threads.");

        var run = new LanguageModelRun(settings.Depth, settings.Batch, settings.Context, settings.LearningRate,
            TimeSpan.FromMinutes(settings.Minutes), settings.Steps, settings.Seed);
        LanguageModelResult? result = null;
        ProgressReporter.Run("Training", report => result = LanguageModelTrainer.Train(model, corpus, run, report));

        AnsiConsole.MarkupLineInterpolated(
            $"[bold]Trained[/] {result!.Steps:N0} steps ({result.Tokens:N0} tokens) in {result.Elapsed:mm\\:ss}: {result.Tokens / result.Elapsed.TotalSeconds:N0} tokens/s, train {result.TrainBitsPerByte:F3} bits/byte, [bold]held-out {result.HeldOutBitsPerByte:F3} bits/byte[/].");

        var saved = Checkpoint.Save(model, settings.Output);
        AnsiConsole.MarkupLineInterpolated($"[bold]Saved[/] weights to {saved}.");

        if (settings.SampleBytes > 0)
        {
            var prompt = Encoding.ASCII.GetBytes(settings.Prompt);
            var continuation = TextSampler.Continue(model, prompt, settings.Context, settings.SampleBytes, settings.Temperature, settings.Seed);
            AnsiConsole.MarkupLine($"[bold]Continuation[/] (temperature {settings.Temperature}):");
            Console.WriteLine(settings.Prompt + Printable(continuation));
        }
        return 0;
    }

    static string Printable(byte[] bytes) =>
        new(bytes.Select(b => b is (byte)'\n' or (byte)'\t' || b is >= 32 and < 127 ? (char)b : '·').ToArray());
}
