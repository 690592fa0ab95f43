using System.ComponentModel;
using AftLab.Models;
using Spectre.Console;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary>Options shared by train, eval and sample: which model, on which data and device, and where its run lives.</summary>
public class RunSettings : CommandSettings
{
    [CommandOption("--model <NAME>"), DefaultValue("byte-full"),
     Description("A sample model: byte-full, byte-local-32, byte-simple, byte-mha, pixel-local, image-conv, image-mha, … (`aftlab models` lists all, with parameter counts).")]
    public string Model { get; init; } = "";

    [CommandOption("--data <PATH>"), Description("Original files instead of the Debian packages: IDX folder (pixel/image models), enwik8 or any text/gzip file (byte models).")]
    public string? Data { get; init; }

    [CommandOption("--device <DEVICE>"), DefaultValue("cpu"), Description("cpu, or cuda (cuda:N) with a CUDA libtorch (see --libtorch).")]
    public string Device { get; init; } = "cpu";

    [CommandOption("--libtorch <DIR>"), Description("Folder of a CUDA libtorch to bind to (e.g. PyTorch's torch/lib); also AFTDSL_LIBTORCH.")]
    public string? LibTorch { get; init; }

    [CommandOption("--kernels <KIND>"), Description("AFT kernels: fused (default; C# SIMD kernels on CPU, CUDA kernels compiled at run time by NVRTC on a GPU, libtorch operators where none fits) or torch (libtorch operators only). Overrides AFTDSL_KERNELS.")]
    public string? Kernels { get; init; }

    [CommandOption("--seed <SEED>"), DefaultValue(1), Description("Seed of weights, batches and sampling.")]
    public int Seed { get; init; }

    [CommandOption("--batch <SIZE>"), Description("Sequences or images per step. Default: 16 (byte), 8 (pixel), 64 (image).")]
    public int? Batch { get; init; }

    [CommandOption("--context <BYTES>"), Description("Byte models: sequence length T, at most the model's maxLength (256; 4096 for byte-wide-*). Default: 128 to train; eval and sample use the length the checkpoint was trained on.")]
    public int? Context { get; init; }

    /// <summary>The largest --batch: far beyond what fits a step in memory on these models, and well before an allocation overflows.</summary>
    public const int MaxBatch = 4096;

    /// <summary>The byte models' T when none is given and no checkpoint says otherwise.</summary>
    public const int DefaultContext = 128;

    [CommandOption("--padded <SIDE>"), DefaultValue(32), Description("Image models: also evaluate on test images zero-padded to this side.")]
    public int Padded { get; init; }

    [CommandOption("--output <DIR>"), Description("Run folder (metrics, checkpoints, plots). Default: runs/<model>.")]
    public string? Output { get; init; }

    public ModelEntry Entry => ModelCatalog.Find(Model);

    public string RunFolder => Output ?? Path.Combine("runs", Model);

    public override ValidationResult Validate()
    {
        if (ModelCatalog.All.All(m => m.Name != Model))
            return ValidationResult.Error($"--model: unknown '{Model}'. Choose one of {string.Join(", ", ModelCatalog.All.Select(m => m.Name))}.");
        if (Runtime.KernelChoice.Problem(Kernels) is { } kernels) return ValidationResult.Error(kernels);
        if (Output is { } output && string.IsNullOrWhiteSpace(output)) return ValidationResult.Error("--output must name a folder, got an empty string.");
        if (Entry.Family != ModelFamily.ByteLm && Context is not null)
            return ValidationResult.Error(Entry.Family == ModelFamily.Pixel
                ? $"--context applies to byte models only: {Model} models sequences of exactly {Entry.Context} pixels (one image)."
                : $"--context applies to byte models only: {Model} classifies whole images.");
        var numbers = OptionRange.First(
            OptionRange.Whole("--batch", Batch, 1, MaxBatch),
            OptionRange.Whole("--context", Context, 2, Entry.Context),
            OptionRange.Whole("--padded", Padded, 1, 1024));
        if (!numbers.Successful) return numbers;
        return ValidationResult.Success();
    }
}
