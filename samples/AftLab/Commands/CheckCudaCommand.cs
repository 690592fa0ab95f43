using System.ComponentModel;
using AftDsl.Cuda;
using AftLab.Runtime;
using Spectre.Console;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab check-cuda</c>: checks the CUDA kernel runtime on this host's GPU (NVRTC, the driver, contexts,
/// shared memory, the disk cache, bfloat16 rounding) and prints one row per check; exit code 1 if any failed.
/// For CUDA hosts that run a published build without the .NET SDK, where the GPU tests cannot run.
/// </summary>
public sealed class CheckCudaCommand : Command<CheckCudaCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--device <DEVICE>"), DefaultValue("cuda"), Description("The CUDA device to check: cuda or cuda:N.")]
        public string Device { get; init; } = "cuda";

        [CommandOption("--libtorch <DIR>"), Description("Folder of a CUDA libtorch to bind to (e.g. PyTorch's torch/lib); also AFTDSL_LIBTORCH.")]
        public string? LibTorch { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var device = DeviceBinding.Use(settings.Device, settings.LibTorch);
        if (device.type != TorchSharp.DeviceType.CUDA)
            throw new ArgumentException($"check-cuda checks a CUDA device; got --device {settings.Device}.");
        var results = CudaRuntimeCheck.Run(device);
        var table = new Table().AddColumn("check").AddColumn("result").AddColumn("detail");
        foreach (var result in results)
            table.AddRow(Markup.Escape(result.Check), result.Passed ? "[green]passed[/]" : "[red]FAILED[/]", Markup.Escape(result.Detail));
        AnsiConsole.Write(table);
        var failed = results.Count(r => !r.Passed);
        AnsiConsole.MarkupLineInterpolated($"{results.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
