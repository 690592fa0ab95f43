using System.ComponentModel;
using System.Globalization;
using AftLab.Benchmarks;
using AftLab.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab bench</c>: times and memory of the four AFT variants (fused), their autograd and naive peers,
/// and multi-head attention, across sequence lengths; writes CSV, a markdown summary with the targets,
/// and PNG plots. With <c>--decode</c>: generation instead, step-by-step decoding of every byte model against
/// recomputation over its window and against byte-mha's KV cache (<see cref="DecodeBenchmark"/>).
/// </summary>
public sealed class BenchCommand : Command<BenchCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--device <DEVICE>"), DefaultValue("cpu"), Description("cpu, or cuda (cuda:N) with a CUDA libtorch (see --libtorch).")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--libtorch <DIR>"), Description("Folder of a CUDA libtorch to bind to (e.g. PyTorch's torch/lib); also AFTDSL_LIBTORCH.")]
        public string? LibTorch { get; init; }

        [CommandOption("--dtype <DTYPE>"), DefaultValue("float32"), Description("float32 or bfloat16.")]
        public string Dtype { get; init; } = "float32";

        [CommandOption("--lengths <LIST>"), DefaultValue("256,1024,4096,16384"), Description("Sequence lengths T, comma-separated.")]
        public string Lengths { get; init; } = "";

        [CommandOption("--tokens <COUNT>"), Description("B·T held near this many tokens (B ≥ 1). Default: 1 sequence per batch on CPU, 32768 tokens on CUDA.")]
        public long? Tokens { get; init; }

        [CommandOption("--windows <LIST>"), DefaultValue("32,256"), Description("AFT-local windows s, comma-separated.")]
        public string Windows { get; init; } = "";

        [CommandOption("--variants <LIST>"), DefaultValue("full,local,simple,conv,mha,layers"), Description("Which of full, local, simple, conv, mha, layers (causal AFT-simple, AFT-local s = 128 and MHA layers with their projections) to run.")]
        public string Variants { get; init; } = "";

        [CommandOption("--iterations <COUNT>"), Description("Measured iterations per case (after one warm-up). Default 3 on CPU, 10 on CUDA.")]
        public int? Iterations { get; init; }

        [CommandOption("--naive-budget <GIB>"), Description("Largest memory the naive B×T×T×d peer may need. Default: a quarter of RAM on CPU, 60 GiB on CUDA.")]
        public double? NaiveBudget { get; init; }

        [CommandOption("--peers <CSV>"), Description("Results of the PyTorch peer script (same columns), merged into the report.")]
        public string? Peers { get; init; }

        [CommandOption("--decode"), Description("Benchmark generation instead: tokens/s and state memory of step-by-step decoding vs recomputation and byte-mha's KV cache.")]
        public bool Decode { get; init; }

        [CommandOption("--decode-contexts <LIST>"), DefaultValue("256,4096"), Description("With --decode: context lengths (the positions decoded), comma-separated; 256 or 4096.")]
        public string DecodeContexts { get; init; } = "";

        [CommandOption("--decode-batches <LIST>"), DefaultValue("1,32"), Description("With --decode: batch sizes, comma-separated.")]
        public string DecodeBatches { get; init; } = "";

        [CommandOption("--decode-recompute-budget <N>"), DefaultValue(200_000_000L), Description("With --decode: largest B·T² the recompute peer runs at (its forward is O(T²) per token for AFT-full and MHA).")]
        public long DecodeRecomputeBudget { get; init; }

        [CommandOption("--decode-threads <N>"), DefaultValue(1), Description("With --decode on CPU: libtorch threads (default 1: a step is many small operations).")]
        public int? DecodeThreads { get; init; }

        [CommandOption("--data-parallel"), Description("Benchmark data-parallel training on the CPU instead: tokens/s of 1 and --ranks ranks under mpirun, each pinned to one core, and the scaling efficiency.")]
        public bool DataParallel { get; init; }

        [CommandOption("--ranks <N>"), DefaultValue(2), Description("With --data-parallel: ranks of the parallel run (at most the cores).")]
        public int Ranks { get; init; }

        [CommandOption("--output <DIR>"), DefaultValue("runs/bench"), Description("Folder for results.csv, exponents.csv, summary.md and the plots.")]
        public string Output { get; init; } = "";

        public override ValidationResult Validate()
        {
            if (Dtype is not ("float32" or "bfloat16")) return ValidationResult.Error($"--dtype must be float32 or bfloat16, got '{Dtype}'.");
            var unknown = Variants.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Except(["full", "local", "simple", "conv", "mha", "layers"]).ToList();
            if (unknown.Count > 0) return ValidationResult.Error($"--variants: unknown {string.Join(", ", unknown)}; choose from full, local, simple, conv, mha, layers.");
            if (!TryLongs(DecodeContexts, out var contexts) || contexts.Any(c => c is not (256 or 4096)))
                return ValidationResult.Error($"--decode-contexts must list 256 and/or 4096 (the byte models' context lengths), got '{DecodeContexts}'.");
            var numbers = OptionRange.First(
                OptionRange.WholeList("--lengths", Lengths, 2, MaxLength),
                OptionRange.WholeList("--windows", Windows, 1, MaxLength),
                OptionRange.Whole("--iterations", Iterations, 1, 10_000),
                OptionRange.Whole("--tokens", Tokens, 1, MaxTokens),
                OptionRange.Real("--naive-budget", NaiveBudget, 0, 1 << 20, minExclusive: true),
                OptionRange.WholeList("--decode-batches", DecodeBatches, 1, 4096),
                OptionRange.Whole("--decode-recompute-budget", DecodeRecomputeBudget, 1, 1_000_000_000_000_000),
                OptionRange.Whole("--decode-threads", DecodeThreads, 1, 1024));
            if (!numbers.Successful) return numbers;
            if (Peers is not null && !File.Exists(Peers)) return ValidationResult.Error($"--peers: no file '{Peers}'.");
            return ValidationResult.Success();
        }

        /// <summary>The longest sequence and the most tokens a case may ask for: beyond them one tensor alone outgrows a GPU.</summary>
        public const long MaxLength = 1 << 20, MaxTokens = 1 << 28;

        public static bool TryLongs(string list, out long[] values)
        {
            var parts = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            values = new long[parts.Length];
            for (var i = 0; i < parts.Length; i++)
                if (!long.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i])) return false;
            return parts.Length > 0;
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var device = DeviceBinding.Use(settings.Device, settings.LibTorch);
        var cuda = device.type == DeviceType.CUDA;
        if (settings.Decode)
            return Decode(context, settings, device);
        if (settings.DataParallel)
            return DataParallel(context, settings);
        Settings.TryLongs(settings.Lengths, out var lengths);
        Settings.TryLongs(settings.Windows, out var windows);
        var variants = settings.Variants.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(v => v switch { "full" => Variant.Full, "local" => Variant.Local, "simple" => Variant.Simple, "conv" => Variant.Conv, "layers" => Variant.SimpleLayer, _ => Variant.Attention })
            .ToHashSet();
        var ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var plan = new BenchPlan(lengths, settings.Tokens ?? (cuda ? 32768 : 1), windows, variants,
            settings.Dtype == "bfloat16" ? torch.ScalarType.BFloat16 : torch.ScalarType.Float32, cuda,
            (settings.NaiveBudget ?? (cuda ? 60 : ram / 4.0 / (1L << 30))) * (1L << 30));

        var output = Path.GetFullPath(settings.Output);
        Directory.CreateDirectory(output);
        // "fused" rows time the fused kernels themselves, also where the library runs the operator kernels by default.
        AftDsl.Kernels.AftKernels.FusedEverywhere = true;
        var results = BenchRunner.Run(plan, device, settings.Iterations ?? (cuda ? 10 : 3), output);
        if (settings.Peers is { } peers)
            results.AddRange(File.ReadLines(peers).Skip(1).Where(l => l.Length > 0).Select(BenchResult.Parse));

        var machine = $"{RunInfo.Machine(device)}; build {RunInfo.Build}; kernels: {AftDsl.Kernels.AftKernels.Describe(device)}";
        var command = "aftlab " + string.Join(" ", context.Arguments);
        var targets = BenchReport.Write(results, output, machine, command, cuda);
        var plots = BenchPlots.Write(results, output, cuda ? "CUDA" : "CPU");

        var table = new Table().AddColumns("target", "measured", "met");
        foreach (var t in targets)
            table.AddRow(Markup.Escape(t.Target), Markup.Escape(t.Measured), t.Met is null ? "n/a" : t.Met.Value ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] {Path.Combine(output, "results.csv")}, exponents.csv, summary.md and {plots.Count} plots to {output}.");
        return 0;
    }

    // The small byte LMs at their full context, 2048 tokens a step per rank: each rank on one core is the unit of compute.
    static int DataParallel(CommandContext context, Settings settings)
    {
        if (settings.Ranks < 2 || settings.Ranks > Environment.ProcessorCount)
            throw new AftLabException($"--ranks must be from 2 to the {Environment.ProcessorCount} cores here (a rank a core), got {settings.Ranks}.", ExitCodes.Usage);
        var output = Path.GetFullPath(settings.Output);
        Directory.CreateDirectory(output);
        var results = DataParallelBenchmark.Run(settings.Ranks, "byte-simple,byte-local-32,byte-full,byte-mha", "256", settings.Tokens ?? 2048,
            settings.Iterations ?? 5, output, line => AnsiConsole.WriteLine(line));
        DataParallelBenchmark.Write(results, output, RunInfo.Machine(torch.CPU) + $"; build {RunInfo.Build}", "aftlab " + string.Join(" ", context.Arguments));
        var table = new Table().AddColumns("model", "T", "tokens/s, 1 rank", $"tokens/s, {settings.Ranks} ranks", "efficiency");
        foreach (var r in results)
            table.AddRow(r.Model, r.Length.ToString(CultureInfo.InvariantCulture), $"{r.OneRank:N0}", $"{r.Ranks:N0}", r.Efficiency is { } e ? $"{e:P1}" : "");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] data-parallel.csv and summary.md to {output}.");
        return 0;
    }

    static int Decode(CommandContext context, Settings settings, torch.Device device)
    {
        Settings.TryLongs(settings.DecodeContexts, out var contexts);
        Settings.TryLongs(settings.DecodeBatches, out var batches);
        var output = Path.GetFullPath(settings.Output);
        Directory.CreateDirectory(output);
        PeakMemory.TuneForSpeed();
        // One step is many small operations: on CPU, one thread avoids a parallel region's hand-off per operation,
        // which costs more than the work (and stalls whenever another process holds the second core).
        if (device.type == DeviceType.CPU && settings.DecodeThreads is { } threads)
            torch.set_num_threads(threads);
        var results = DecodeBenchmark.Run(contexts, batches, device, settings.DecodeRecomputeBudget, line => AnsiConsole.WriteLine(line));
        var machine = $"{RunInfo.Machine(device)}; build {RunInfo.Build}; {torch.get_num_threads()} libtorch thread(s)";
        var targets = DecodeReport.Write(results, output, machine, "aftlab " + string.Join(" ", context.Arguments));
        var table = new Table().AddColumns("target", "measured", "met");
        foreach (var t in targets)
            table.AddRow(Markup.Escape(t.Name), Markup.Escape(t.Measured), t.Met is null ? "n/a" : t.Met.Value ? "[green]yes[/]" : "[red]no[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] decode.csv, decode-summary.md and {batches.Length} plots to {output}.");
        return 0;
    }
}
