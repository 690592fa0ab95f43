using System.ComponentModel;
using System.Globalization;
using System.Text;
using AftDsl.Distributed;
using AftDsl.Kernels;
using AftLab.Benchmarks;
using AftLab.Models;
using AftLab.Runtime;
using AftLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab throughput</c>: training tokens per second of the byte LMs against their attention baseline,
/// at each context length, in one run; writes throughput.csv and summary.md with the ratios and targets.
/// </summary>
public sealed class ThroughputCommand : Command<ThroughputCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--device <DEVICE>"), DefaultValue("cpu"), Description("cpu, or cuda (cuda:N) with a CUDA libtorch (see --libtorch).")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--libtorch <DIR>"), Description("Folder of a CUDA libtorch to bind to (e.g. PyTorch's torch/lib); also AFTDSL_LIBTORCH.")]
        public string? LibTorch { get; init; }

        [CommandOption("--models <LIST>"), Description("Byte LMs to time, comma-separated. Default: the small byte models on CPU, the 12 × 512 ones on CUDA.")]
        public string? Models { get; init; }

        [CommandOption("--lengths <LIST>"), Description("Context lengths T, comma-separated. Default: 128,1024 on CPU; 1024,4096 on CUDA.")]
        public string? Lengths { get; init; }

        [CommandOption("--tokens <COUNT>"), Description("Tokens per step, B·T (B ≥ 1). Default: 2048 on CPU, 32768 on CUDA.")]
        public long? Tokens { get; init; }

        [CommandOption("--dtype <DTYPE>"), DefaultValue("float32"), Description("float32 or bfloat16 (parameters and activations).")]
        public string Dtype { get; init; } = "float32";

        [CommandOption("--steps <COUNT>"), Description("Timed steps per case, after two warm-up steps. Default 3 on CPU, 10 on CUDA.")]
        public int? Steps { get; init; }

        [CommandOption("--output <DIR>"), DefaultValue("runs/throughput"), Description("Folder for throughput.csv and summary.md.")]
        public string Output { get; init; } = "";

        public override ValidationResult Validate()
        {
            if (DtypeChoice.Problem(Dtype) is { } dtype) return ValidationResult.Error(dtype);
            var numbers = OptionRange.First(
                OptionRange.WholeList("--lengths", Lengths, 2, BenchCommand.Settings.MaxLength),
                OptionRange.Whole("--steps", Steps, 1, 100_000),
                OptionRange.Whole("--tokens", Tokens, 1, BenchCommand.Settings.MaxTokens));
            if (!numbers.Successful) return numbers;
            foreach (var name in (Models ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (ModelCatalog.All.FirstOrDefault(m => m.Name == name) is not { Family: ModelFamily.ByteLm })
                    return ValidationResult.Error($"--models: '{name}' is not a byte LM; choose from {string.Join(", ", ByteModels().Select(m => m.Name))}.");
            return ValidationResult.Success();
        }
    }

    static IEnumerable<ModelEntry> ByteModels() => ModelCatalog.All.Where(m => m.Family == ModelFamily.ByteLm);

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        DataParallelLaunch.Run(settings.Device, settings.LibTorch, alwaysJoin: false, (device, parallel) => Execute(context, settings, device, parallel));

    static int Execute(CommandContext context, Settings settings, torch.Device device, DataParallel? parallel)
    {
        var cuda = device.type == DeviceType.CUDA;
        var models = settings.Models is { } list
            ? list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(ModelCatalog.Find).ToList()
            : ByteModels().Where(m => m.Name.StartsWith("byte-wide-", StringComparison.Ordinal) == cuda).ToList();
        BenchCommand.Settings.TryLongs(settings.Lengths ?? (cuda ? "1024,4096" : "128,1024"), out var lengths);
        var tokens = settings.Tokens ?? (cuda ? 32768 : 2048);
        var dtype = DtypeChoice.Parse(settings.Dtype);
        var steps = settings.Steps ?? (cuda ? 10 : 3);

        if (parallel is not null)
            AnsiConsole.MarkupLineInterpolated($"Data parallel: {parallel.Backend}, world size {parallel.WorldSize}; --tokens per rank.");
        AnsiConsole.MarkupLineInterpolated($"Kernels: {AftKernels.Describe(device)}");
        var results = new List<ThroughputResult>();
        foreach (var length in lengths)
            foreach (var model in models)
            {
                var result = TrainingThroughput.Measure(model, length, Math.Max(1, tokens / length), dtype, device, steps, parallel);
                results.Add(result);
                AnsiConsole.MarkupLineInterpolated($"{model.Name} T={length} B={result.Batch}: {(result.TokensPerSecond is { } s ? $"{s:N0} tokens/s ({result.MedianStepMs:0.#} ms a step)" : result.Status)}");
            }

        if (parallel is { IsMain: false }) return 0;                         // rank 0 writes the results
        var output = Path.GetFullPath(settings.Output);
        Directory.CreateDirectory(output);
        AtomicFile.WriteAllText(Path.Combine(output, "throughput.csv"), ThroughputResult.Header + "\n" + string.Join("\n", results.Select(r => r.ToCsv())) + "\n");
        AtomicFile.WriteAllText(Path.Combine(output, "summary.md"), Summary(results, device, cuda, "aftlab " + string.Join(" ", context.Arguments)));
        AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] throughput.csv and summary.md to {output}.");
        return 0;
    }

    // Ratios against the family's baseline at the same T; the targets of issues 9 (CUDA) and 10 (CPU).
    static string Summary(List<ThroughputResult> results, torch.Device device, bool cuda, string command)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Training throughput, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine($"Machine: {RunInfo.Machine(device)}  ");
        text.AppendLine($"Build: {RunInfo.Build}  ");
        text.AppendLine($"Kernels: {AftKernels.Describe(device)}  ");
        text.AppendLine($"Command: `{command}`  ");
        text.AppendLine("Whole training steps (forward, cross-entropy, backward, AdamW) on random bytes; medians after two warm-up steps.");
        text.AppendLine();
        text.AppendLine(results.Any(r => r.Ranks > 1) ? $"Data parallel over {results.Max(r => r.Ranks)} ranks: B is each rank's batch, tokens/s all ranks'." : "One process.");
        text.AppendLine();
        text.AppendLine("| model | T | B | step ms | tokens/s | vs baseline | target | met |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            var baseline = results.FirstOrDefault(b => b.Model == r.Baseline && b.Length == r.Length);
            double? ratio = r.TokensPerSecond is { } a && baseline?.TokensPerSecond is { } b ? a / b : null;
            var target = Target(r, cuda);
            var met = target is null || ratio is null ? "" : ratio >= target ? "yes" : "**no**";
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Model} | {r.Length} | {r.Batch} | {r.MedianStepMs?.ToString("0.#", CultureInfo.InvariantCulture) ?? r.Status} | {r.TokensPerSecond?.ToString("N0", CultureInfo.InvariantCulture) ?? ""} | {(ratio is { } x ? $"{x:0.00}×" : "")} | {(target is { } t ? $"≥ {t:0.0}×" : "")} | {met} |"));
        }
        return text.ToString();
    }

    // Issue 9 (CUDA): AFT-local and AFT-simple ≥ 1.5× at T ≥ 1024, ≥ 3× at T ≥ 4096. Issue 10 (CPU): every AFT model ≥ 1.3× at T ≥ 1024.
    static double? Target(ThroughputResult r, bool cuda)
    {
        if (r.Model == r.Baseline || r.Length < 1024) return null;
        if (!cuda) return 1.3;
        if (!r.Model.Contains("local", StringComparison.Ordinal) && !r.Model.Contains("simple", StringComparison.Ordinal)) return null;
        return r.Length >= 4096 ? 3.0 : 1.5;
    }
}
