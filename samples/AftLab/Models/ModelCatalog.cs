using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Models;

/// <summary>The three families of the paper's experiments.</summary>
public enum ModelFamily { ByteLm, Pixel, Classifier }

/// <summary>A sample model the app can train: its command-line name, family, what it is, and how to make one.</summary>
public sealed record ModelEntry(string Name, ModelFamily Family, string Description, long ParameterCount, long Context, Func<nn.Module<Tensor, Tensor>> Create);

/// <summary>Every sample model declared with the DSL, by name.</summary>
public static class ModelCatalog
{
    public static readonly IReadOnlyList<ModelEntry> All =
    [
        new("byte-full", ModelFamily.ByteLm, "causal AFT-full byte LM", ByteLmFull.ParameterCount, ByteLmFull.MaxLength, () => new ByteLmFull()),
        new("byte-local-4", ModelFamily.ByteLm, "causal AFT-local byte LM, window 4", ByteLmLocal4.ParameterCount, ByteLmLocal4.MaxLength, () => new ByteLmLocal4()),
        new("byte-local-8", ModelFamily.ByteLm, "causal AFT-local byte LM, window 8", ByteLmLocal8.ParameterCount, ByteLmLocal8.MaxLength, () => new ByteLmLocal8()),
        new("byte-local-32", ModelFamily.ByteLm, "causal AFT-local byte LM, window 32", ByteLmLocal32.ParameterCount, ByteLmLocal32.MaxLength, () => new ByteLmLocal32()),
        new("byte-local-128", ModelFamily.ByteLm, "causal AFT-local byte LM, window 128", ByteLmLocal128.ParameterCount, ByteLmLocal128.MaxLength, () => new ByteLmLocal128()),
        new("byte-simple", ModelFamily.ByteLm, "causal AFT-simple byte LM", ByteLmSimple.ParameterCount, ByteLmSimple.MaxLength, () => new ByteLmSimple()),
        new("byte-mha", ModelFamily.ByteLm, "causal multi-head attention byte LM (baseline)", ByteLmAttention.ParameterCount, ByteLmAttention.MaxLength, () => new ByteLmAttention()),
        new("byte-wide-full", ModelFamily.ByteLm, "causal AFT-full byte LM, 12 × 512", WideByteLmFull.ParameterCount, WideByteLmFull.MaxLength, () => new WideByteLmFull()),
        new("byte-wide-local-32", ModelFamily.ByteLm, "causal AFT-local byte LM, window 32, 12 × 512", WideByteLmLocal32.ParameterCount, WideByteLmLocal32.MaxLength, () => new WideByteLmLocal32()),
        new("byte-wide-simple", ModelFamily.ByteLm, "causal AFT-simple byte LM, 12 × 512", WideByteLmSimple.ParameterCount, WideByteLmSimple.MaxLength, () => new WideByteLmSimple()),
        new("byte-wide-mha", ModelFamily.ByteLm, "causal multi-head attention byte LM, 12 × 512 (baseline)", WideByteLmAttention.ParameterCount, WideByteLmAttention.MaxLength, () => new WideByteLmAttention()),
        new("pixel-full", ModelFamily.Pixel, "causal AFT-full pixel model", PixelFull.ParameterCount, PixelFull.MaxLength, () => new PixelFull()),
        new("pixel-local", ModelFamily.Pixel, "causal AFT-local pixel model, window 128", PixelLocal.ParameterCount, PixelLocal.MaxLength, () => new PixelLocal()),
        new("pixel-simple", ModelFamily.Pixel, "causal AFT-simple pixel model", PixelSimple.ParameterCount, PixelSimple.MaxLength, () => new PixelSimple()),
        new("pixel-mha", ModelFamily.Pixel, "causal multi-head attention pixel model (baseline)", PixelAttentionModel.ParameterCount, PixelAttentionModel.MaxLength, () => new PixelAttentionModel()),
        new("image-conv", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 5×5, w = −∞ outside the window (any image size)", ConvClassifier.ParameterCount, 0, () => new ConvClassifier()),
        new("image-conv-global", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 5×5, the paper's global connectivity (ablation default)", ConvClassifierGlobal.ParameterCount, 0, () => new ConvClassifierGlobal()),
        new("image-conv-w9", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 9×9 (ablation)", ConvClassifierWindow9.ParameterCount, 0, () => new ConvClassifierWindow9()),
        new("image-conv-w13", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 13×13 (ablation)", ConvClassifierWindow13.ParameterCount, 0, () => new ConvClassifierWindow13()),
        new("image-conv-window-w3", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 3×3, w = −∞ outside the window (ablation)", ConvClassifierWindowOnly3.ParameterCount, 0, () => new ConvClassifierWindowOnly3()),
        new("image-conv-window-w9", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 9×9, w = −∞ outside the window (ablation)", ConvClassifierWindowOnly9.ParameterCount, 0, () => new ConvClassifierWindowOnly9()),
        new("image-conv-window-w13", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 13×13, w = −∞ outside the window (ablation)", ConvClassifierWindowOnly13.ParameterCount, 0, () => new ConvClassifierWindowOnly13()),
        new("image-conv-h16", ModelFamily.Classifier, "AFT-conv image classifier, 16 heads, 5×5 (ablation)", ConvClassifierHeads16.ParameterCount, 0, () => new ConvClassifierHeads16()),
        new("image-conv-h64", ModelFamily.Classifier, "AFT-conv image classifier, 64 heads, 5×5 (ablation)", ConvClassifierHeads64.ParameterCount, 0, () => new ConvClassifierHeads64()),
        new("image-conv-raw", ModelFamily.Classifier, "AFT-conv image classifier, 8 heads, 5×5, raw kernel (ablation)", ConvClassifierRawKernel.ParameterCount, 0, () => new ConvClassifierRawKernel()),
        new("image-simple", ModelFamily.Classifier, "AFT-simple image classifier (reference; any image size)", SimpleClassifier.ParameterCount, 0, () => new SimpleClassifier()),
        new("image-full", ModelFamily.Classifier, "AFT-full image classifier, rank-16 biases (reference; up to 256 patches)", FullClassifier.ParameterCount, 0, () => new FullClassifier()),
        new("image-mha", ModelFamily.Classifier, "multi-head attention image classifier (baseline, 28×28 only)", AttentionClassifier.ParameterCount, 0, () => new AttentionClassifier()),
    ];

    public static ModelEntry Find(string name) =>
        All.FirstOrDefault(m => m.Name == name)
        ?? throw new ArgumentException($"Unknown model '{name}'. Choose one of: {string.Join(", ", All.Select(m => m.Name))}.");
}
