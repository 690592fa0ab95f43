using System.ComponentModel;
using AftDsl.Distributed;
using AftLab.Runtime;
using AftLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;
using TorchSharp;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab check-data-parallel</c>: the data-parallel equivalence check (<see cref="DataParallelCheck"/>) on a device,
/// through the backend data-parallel training uses there (NCCL on CUDA, MPI on the CPU), at world size 1 alone or N under
/// mpirun; prints the largest differences and PASS or FAIL per dtype; exit code 1 if any failed. For hosts that run a
/// published build without the .NET SDK, where the tests cannot run.
/// </summary>
public sealed class CheckDataParallelCommand : Command<CheckDataParallelCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--device <DEVICE>"), DefaultValue("cpu"), Description("cpu (the MPI backend) or cuda (the NCCL backend; cuda:LOCAL_RANK under a launcher).")]
        public string Device { get; init; } = "cpu";

        [CommandOption("--libtorch <DIR>"), Description("Folder of a CUDA libtorch to bind to (e.g. PyTorch's torch/lib); also AFTDSL_LIBTORCH.")]
        public string? LibTorch { get; init; }

        [CommandOption("--steps <STEPS>"), DefaultValue(5), Description("Training steps to compare.")]
        public int Steps { get; init; }

        [CommandOption("--batch <SIZE>"), DefaultValue(4), Description("Sequences per rank and step (the reference trains on world size × this).")]
        public int Batch { get; init; }

        [CommandOption("--dtype <DTYPES>"), DefaultValue("float32,float64"), Description("float32, float64, or both (comma-separated).")]
        public string Dtypes { get; init; } = "";

        [CommandOption("--seed <SEED>"), DefaultValue(1), Description("Seed of the weights and batches.")]
        public int Seed { get; init; }

        public override ValidationResult Validate()
        {
            var numbers = OptionRange.First(OptionRange.Whole("--steps", Steps, 1, 10_000), OptionRange.Whole("--batch", Batch, 1, 4096));
            if (!numbers.Successful) return numbers;
            return Parse(Dtypes) is null ? ValidationResult.Error($"--dtype: expected float32, float64 or both, got '{Dtypes}'.") : ValidationResult.Success();
        }

        internal static torch.ScalarType[]? Parse(string text)
        {
            var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var types = names.Select(n => n switch { "float32" => torch.ScalarType.Float32, "float64" => torch.ScalarType.Float64, _ => (torch.ScalarType?)null }).ToArray();
            return types.Length > 0 && types.All(t => t is not null) ? types.Select(t => t!.Value).Distinct().ToArray() : null;
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        DataParallelLaunch.Run(settings.Device, settings.LibTorch, alwaysJoin: true, (device, joined) =>
        {
            var parallel = joined!;
            AnsiConsole.MarkupLineInterpolated($"[bold]Data parallel:[/] {parallel.Backend}, world size {parallel.WorldSize}, on {parallel.Device}; {DataParallelLaunch.Environment()}.");
            AnsiConsole.MarkupLineInterpolated($"[bold]Machine:[/] {RunInfo.Machine(device)}; aftlab {RunInfo.Build}.");
            var table = new Table().AddColumn("dtype").AddColumn("steps").AddColumn("parameters: max |DP − 1 process|").AddColumn("gradients: max |DP − 1 process|").AddColumn("max |rank − rank 0|").AddColumn("tolerance").AddColumn("result");
            var failed = 0;
            foreach (var dtype in Settings.Parse(settings.Dtypes)!)
            {
                var result = DataParallelCheck.Run(parallel, dtype, settings.Steps, settings.Batch, settings.Seed);
                if (!result.Passed) failed++;
                table.AddRow(dtype.ToString().ToLowerInvariant(), $"{result.Steps}", $"{result.FromReference:E2}", $"{result.GradientFromReference:E2}", $"{result.AcrossRanks:E2}", $"{result.Tolerance:E0}",
                    result.Passed ? "[green]PASS[/]" : "[red]FAIL[/]");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(failed == 0
                ? $"PASS: {parallel.WorldSize} rank(s) × batch {settings.Batch} trained step for step as one process with batch {parallel.WorldSize * settings.Batch}, and all ranks held identical parameters."
                : $"FAIL: {failed} dtype(s) out of tolerance.");
            return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
}
