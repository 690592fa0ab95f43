using AftLab.Commands;
using AftLab.Data;
using AftDsl;
using Spectre.Console;
using Spectre.Console.Cli;

// Redirected output (CI logs, files) has no terminal width: keep lines whole instead of wrapping at 80.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 240;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("aftlab");
    config.AddCommand<TrainCommand>("train")
        .WithDescription("Train a sample model (byte LM, pixel model or image classifier) on real data, with progress, metrics, plots and checkpoints.")
        .WithExample("train", "--minutes", "3")
        .WithExample("train", "--model", "pixel-local", "--minutes", "20")
        .WithExample("train", "--model", "byte-full", "--resume");
    config.AddCommand<EvalCommand>("eval")
        .WithDescription("Held-out metrics of a run's last good checkpoint (bits/byte, bits/dim, or top-1 at 28×28 and padded).")
        .WithExample("eval", "--model", "image-conv");
    config.AddCommand<SampleCommand>("sample")
        .WithDescription("Generate from a run's last good checkpoint: text for a byte LM, a PNG grid of images for a pixel model.")
        .WithExample("sample", "--model", "byte-full", "--prompt", "Cat \\Cat\\, n. ")
        .WithExample("sample", "--model", "pixel-local", "--count", "16");
    config.AddCommand<ModelsCommand>("models")
        .WithDescription("List the sample models (--model) with their parameter counts.");
    config.AddCommand<BenchCommand>("bench")
        .WithDescription("Time and memory of the AFT kernels against autograd, the naive form and attention; CSV, summary and plots.")
        .WithExample("bench", "--lengths", "256,1024,4096");
    config.AddCommand<ThroughputCommand>("throughput")
        .WithDescription("Training tokens/s of the byte LMs against their attention baseline, per context length; CSV and summary with the targets.")
        .WithExample("throughput", "--lengths", "128,1024");
    config.AddCommand<CheckKernelsCommand>("check-kernels")
        .WithDescription("The fused kernels' correctness suite on a device: every variant against float64 references, extreme keys, causality, NaN isolation.")
        .WithExample("check-kernels", "--device", "cuda", "--output", "kernel-check.md");
    config.AddCommand<CheckCudaCommand>("check-cuda")
        .WithDescription("Check the CUDA kernel runtime on this host's GPU: NVRTC, the driver, contexts, shared memory, the disk cache, bfloat16 rounding.")
        .WithExample("check-cuda", "--libtorch", "/path/to/site-packages/torch/lib");
    // Mistakes in input (data files, checkpoints, options, shapes) are reported in one line, without a stack trace.
    config.SetExceptionHandler((exception, _) =>
    {
        if (exception is DataFormatException or AftShapeException or InvalidOperationException or ArgumentException or IOException or CommandAppException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {exception.Message}");
            return 1;
        }
        AnsiConsole.WriteException(exception);
        return 70;
    });
});
return app.Run(args);
