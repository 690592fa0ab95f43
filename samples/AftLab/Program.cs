using AftLab.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Redirected output (CI logs, files) has no terminal width: keep lines whole instead of wrapping at 80.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 240;

// --debug (or AFTLAB_DEBUG=1) shows stack traces; it is global, so it is taken off before the verb's options are parsed.
var debug = args.Contains(ErrorReport.DebugSwitch) || Environment.GetEnvironmentVariable("AFTLAB_DEBUG") == "1";
args = args.Where(a => a != ErrorReport.DebugSwitch).ToArray();

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("aftlab");
    // Unknown options are errors, not silently ignored (`--step 5` for `--steps 5` would otherwise train for 3 minutes).
    config.UseStrictParsing();
    config.AddCommand<TrainCommand>("train")
        .WithDescription("Train a sample model (byte LM, pixel model or image classifier) on real data, with progress, metrics, plots and checkpoints.")
        .WithExample("train", "--minutes", "3")
        .WithExample("train", "--model", "pixel-local", "--minutes", "20")
        .WithExample("train", "--model", "byte-full", "--resume");
    config.AddCommand<EvalCommand>("eval")
        .WithDescription("Held-out metrics of a run's newest verified checkpoint (bits/byte, bits/dim, or top-1 at 28×28 and padded).")
        .WithExample("eval", "--model", "image-conv");
    config.AddCommand<SampleCommand>("sample")
        .WithDescription("Generate from a run's newest verified checkpoint: text for a byte LM, a PNG grid of images for a pixel model.")
        .WithExample("sample", "--model", "byte-full", "--prompt", "Cat \\Cat\\, n. ")
        .WithExample("sample", "--model", "pixel-local", "--count", "16");
    config.AddCommand<ExportCommand>("export")
        .WithDescription("Write a run's newest verified checkpoint for PyTorch: a torch.save state dict, architecture.json and aftdsl_torch.py, whose load(folder) gives the same model.")
        .WithExample("export", "--model", "byte-full", "--format", "pytorch", "--output", "byte-full-pytorch");
    config.AddCommand<ImportCommand>("import")
        .WithDescription("Load a PyTorch state dict into a sample model and write it as a verified checkpoint of the run folder (eval, sample, export, train --resume).")
        .WithExample("import", "--model", "byte-full", "--input", "finetuned.pt");
    config.AddCommand<ModelsCommand>("models")
        .WithDescription("List the sample models (--model) with their parameter counts.");
    config.AddCommand<SummarizeCommand>("summarize")
        .WithDescription("Each model's mean ± standard deviation over its seeds, from experiments.sh's runs (RUNS/MODEL/seed-N/results.json).");
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
    config.AddCommand<CheckDataParallelCommand>("check-data-parallel").WithDescription("Check data-parallel training on a device (MPI on cpu, NCCL on cuda): N ranks × batch b against one process with batch N·b, step for step; PASS or FAIL.");
    // Every failure is one line with a documented exit code (docs/aftlab.md); stack traces only under --debug.
    config.SetExceptionHandler((exception, _) => ErrorReport.Handle(exception, args, debug));
});
return app.Run(args);
