using System.ComponentModel;
using System.Text;
using AftLab.Models;
using AftLab.Runtime;
using AftLab.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace AftLab.Commands;

/// <summary>
/// <c>aftlab sample</c>: generates from a run's last good checkpoint: text for a byte LM (printed and written
/// to samples.txt), a PNG grid of images for a pixel model (samples.png).
/// </summary>
public sealed class SampleCommand : Command<SampleCommand.Settings>
{
    public sealed class Settings : RunSettings
    {
        [CommandOption("--prompt <TEXT>"), DefaultValue("Bread \\Bread\\, n. "), Description("Byte models: the text to continue.")]
        public string Prompt { get; init; } = "";

        [CommandOption("--count <N>"), Description("Bytes of text (default 600; any number, also beyond the context) or images (default 16) to generate.")]
        public int? Count { get; init; }

        [CommandOption("--temperature <T>"), DefaultValue(0.8), Description("Softmax temperature: below 1 is more conservative.")]
        public double Temperature { get; init; }

        public override ValidationResult Validate()
        {
            // Below 0.01 the logits divided by T overflow float32, and libtorch fails inside multinomial.
            var numbers = OptionRange.First(OptionRange.Whole("--count", Count, 1, 100_000), OptionRange.Real("--temperature", Temperature, 0.01, 100));
            if (!numbers.Successful) return numbers;
            if (string.IsNullOrEmpty(Prompt)) return ValidationResult.Error("--prompt must not be empty.");
            return base.Validate() is { Successful: false } failed ? failed
                : Entry.Family == ModelFamily.Classifier ? ValidationResult.Error($"{Model} is a classifier: it does not generate. Sample a byte-* or pixel-* model.")
                : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var device = DeviceBinding.Use(settings.Device, settings.LibTorch);
        KernelChoice.Apply(settings.Kernels, device);
        var entry = settings.Entry;
        var (model, state) = TrainedModel.Load(entry, settings.RunFolder, device);
        Directory.CreateDirectory(settings.RunFolder);
        if (entry.Family == ModelFamily.ByteLm)
        {
            var prompt = Encoding.UTF8.GetBytes(settings.Prompt);
            var window = TrainedModel.Context(settings, state);
            AnsiConsole.MarkupLineInterpolated($"[bold]{entry.Name}[/] after {state.Step:N0} steps, temperature {settings.Temperature}:");
            Console.Write(settings.Prompt);
            // Streamed: each byte is printed as soon as it is drawn.
            var (bytes, timing) = TextSampler.Generate(model, prompt, window, settings.Count ?? 600, settings.Temperature, settings.Seed, device,
                b => { Console.Write(TextSampler.Printable(b)); Console.Out.Flush(); });
            Console.WriteLine();
            var text = settings.Prompt + TextSampler.Printable(bytes);
            var path = Path.Combine(settings.RunFolder, "samples.txt");
            AtomicFile.WriteAllText(path, text + "\n");
            AnsiConsole.MarkupLineInterpolated(
                $"[bold]{timing.Tokens:N0} bytes[/] in {timing.Generation.TotalSeconds:F2} s: {timing.MillisecondsPerToken:F2} ms per byte ({Method(model, window)}; prompt of {prompt.Length:N0} bytes in {timing.Prompt.TotalMilliseconds:F0} ms).");
            AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] {Path.GetFullPath(path)}.");
        }
        else
        {
            var count = settings.Count ?? 16;
            var side = (int)Math.Round(Math.Sqrt(entry.Context));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var images = ProgressDisplay.Run($"Drawing {count} images of {side}×{side} pixels",
                report => PixelSampler.Draw(model, count, (int)entry.Context, settings.Temperature, settings.Seed, device, p => report(p, "")));
            AnsiConsole.MarkupLineInterpolated(
                $"[bold]{entry.Context:N0} steps[/] of {count} pixels each in {clock.Elapsed.TotalSeconds:F2} s: {clock.Elapsed.TotalMilliseconds / entry.Context:F2} ms per step.");
            var path = Path.Combine(settings.RunFolder, "samples.png");
            ImageGrid.Save(images, side, path, $"{entry.Name}, {state.Step:N0} steps, temperature {settings.Temperature}");
            AnsiConsole.MarkupLineInterpolated($"[bold]Wrote[/] {count} images to {Path.GetFullPath(path)}.");
        }
        return 0;
    }

    static string Method(TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> model, int context) =>
        model is AftDsl.Decoding.IDecodingModel decoder
            ? TextSampler.Window(decoder, context) == long.MaxValue
                ? "decoded step by step, no position bound"
                : $"decoded step by step, restarting from the last half window every {TextSampler.Window(decoder, context) / 2:N0} bytes past {TextSampler.Window(decoder, context):N0}"
            : $"recomputed over a {context:N0}-byte window per byte";
}
