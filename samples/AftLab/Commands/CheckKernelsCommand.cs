using System.ComponentModel;
using System.Globalization;
using System.Text;
using AftDsl.Kernels;
using AftLab.Runtime;
using AftLab.Verification;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab check-kernels</c>: the fused kernels' correctness suite on a device (the CUDA host's, where
/// <c>dotnet test</c> cannot run its GPU tests): every variant, causal and not, against float64 references,
/// with extreme keys, causality and NaN isolation. Exit code 1 when any check fails.
/// </summary>
public sealed class CheckKernelsCommand : Command<CheckKernelsCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--device <DEVICE>"), DefaultValue("cpu"), Description("cpu, or cuda (cuda:N) with a CUDA libtorch (see --libtorch).")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--libtorch <DIR>"), Description("Folder of a CUDA libtorch to bind to (e.g. PyTorch's torch/lib); also AFTDSL_LIBTORCH.")]
        public string? LibTorch { get; init; }

        [CommandOption("--dtypes <LIST>"), Description("Dtypes to check, comma-separated. Default: float32,bfloat16 on CUDA; float32,float64 on CPU.")]
        public string? Dtypes { get; init; }

        [CommandOption("--cases <LIST>"), Description("Only cases whose name starts with one of these (simple, local, full, conv), comma-separated.")]
        public string? Cases { get; init; }

        [CommandOption("--output <FILE>"), Description("Also write the results as a markdown report to this file.")]
        public string? Output { get; init; }

        public override ValidationResult Validate()
        {
            var unknown = (Dtypes ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Except(["float32", "float64", "bfloat16"]).ToList();
            return unknown.Count == 0 ? ValidationResult.Success()
                : ValidationResult.Error($"--dtypes: unknown {string.Join(", ", unknown)}; choose from float32, float64, bfloat16.");
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var device = DeviceBinding.Use(settings.Device, settings.LibTorch);
        var cuda = device.type == DeviceType.CUDA;
        var dtypes = (settings.Dtypes ?? (cuda ? "float32,bfloat16" : "float32,float64"))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => d switch { "float64" => torch.ScalarType.Float64, "bfloat16" => torch.ScalarType.BFloat16, _ => torch.ScalarType.Float32 })
            .ToList();
        var prefixes = settings.Cases?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var cases = KernelCase.All().Where(c => prefixes is null || prefixes.Any(p => c.Name.StartsWith(p, StringComparison.Ordinal))).ToList();

        AftKernels.FusedEverywhere = true;             // check every fused kernel, also where the default runs the operator kernels
        AnsiConsole.MarkupLineInterpolated($"Kernels: {AftKernels.Describe(device)}");
        var results = new List<CheckResult>();
        foreach (var dtype in dtypes)
            foreach (var c in cases)
            {
                var started = DateTime.UtcNow;
                var rows = KernelChecks.Run(c, dtype, device).ToList();
                results.AddRange(rows);
                var failed = rows.Where(r => !r.Passed).ToList();
                var status = failed.Count == 0 ? "[green]ok[/]" : $"[red]{failed.Count} failed[/]";
                AnsiConsole.MarkupLine($"{Markup.Escape($"{c.Name}{(c.Causal ? " causal" : "")} {dtype}")}: {status} ({(DateTime.UtcNow - started).TotalSeconds:0.0} s)");
                foreach (var f in failed)
                    AnsiConsole.MarkupLineInterpolated($"  [red]{f.Check}[/]: {f.Measured:G3} > {f.Limit:G3}{(f.Detail.Length > 0 ? $" ({f.Detail})" : "")}");
            }

        var failures = results.Count(r => !r.Passed);
        AnsiConsole.MarkupLine($"{results.Count - failures} passed, {failures} failed");
        if (settings.Output is { } file)
        {
            AtomicFile.WriteAllText(file, Report(results, device, "aftlab " + string.Join(" ", context.Arguments)));
            AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] {file}");
        }
        return failures == 0 ? 0 : 1;
    }

    static string Report(List<CheckResult> results, torch.Device device, string command)
    {
        var text = new StringBuilder();
        text.AppendLine($"# Kernel checks, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        text.AppendLine();
        text.AppendLine($"Machine: {RunInfo.Machine(device)}  ");
        text.AppendLine($"Build: {RunInfo.Build}  ");
        text.AppendLine($"Kernels: {AftKernels.Describe(device)}  ");
        text.AppendLine($"Command: `{command}`  ");
        foreach (var (variant, reason) in AftKernels.UnavailableCudaKernels)
            text.AppendLine($"Not fused: {variant} ran the libtorch-operator kernels, because {reason.Split('\n')[0]}  ");
        text.AppendLine($"Result: {results.Count(r => r.Passed)} passed, {results.Count(r => !r.Passed)} failed");
        text.AppendLine();
        text.AppendLine("| case | dtype | check | measured | limit | passed |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in results)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Case} | {r.Dtype} | {r.Check}{(r.Detail.Length > 0 ? $" ({r.Detail})" : "")} | {r.Measured:G3} | {r.Limit:G3} | {(r.Passed ? "yes" : "**no**")} |"));
        return text.ToString();
    }
}
