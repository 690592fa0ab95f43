using AftDsl;
using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftLab.Models;

// Image classifiers (the paper's ImageNet experiment, here on Fashion-MNIST): 2×2 patches (a 14×14 grid at
// 28×28), 2 blocks × 64 wide, global average pooling. The AFT models have no absolute positions, so they run on
// any image size. Every model has the attention baseline's parameter count within 0.2 %: the FFN's width in
// units (FfnWidth) takes up what the mixers differ by. image-conv is the best configuration of the ablation in
// docs/results.md (d): 8 heads, 5×5, w = −∞ outside the window. The ablation's arms each change one thing of
// image-conv-global, the paper's configuration (global connectivity, reparameterised kernel).

[AftConv(heads: 8, window: 5, Connectivity = AftConvConnectivity.Window)] public partial class ImageConvMixer;   // w = −∞ outside the window
[AftConv(heads: 8, window: 5)] public partial class ImageConvMixerGlobal;
[AftConv(heads: 8, window: 9)] public partial class ImageConvMixerWindow9;
[AftConv(heads: 8, window: 13)] public partial class ImageConvMixerWindow13;    // 13×13 on the 14×14 grid: nearly global
[AftConv(heads: 8, window: 3, Connectivity = AftConvConnectivity.Window)] public partial class ImageConvMixerWindowOnly3;
[AftConv(heads: 8, window: 9, Connectivity = AftConvConnectivity.Window)] public partial class ImageConvMixerWindowOnly9;
[AftConv(heads: 8, window: 13, Connectivity = AftConvConnectivity.Window)] public partial class ImageConvMixerWindowOnly13;
[AftConv(heads: 16, window: 5)] public partial class ImageConvMixerHeads16;
[AftConv(heads: 64, window: 5)] public partial class ImageConvMixerHeads64;     // one channel per head
[AftConv(heads: 8, window: 5, Reparameterise = false)] public partial class ImageConvMixerRawKernel;                        // w itself, no γ, β
[AftSimple] public partial class ImageSimpleMixer;
[AftFull(maxLength: 256, FactorRank = 16)] public partial class ImageFullMixer;   // 256 positions: the 16×16 grid of 32×32 images
[MultiHeadAttention(heads: 4)] public partial class ImageAttention;

#pragma warning disable AFT0401 // any image size by design: forward checks that each batch's sides are even

/// <summary>AFT-conv classifier, window-only connectivity: any image size divisible by the patch.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifier
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixer), FfnWidth = 331)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The conv classifier as the paper configures it: sources outside the window count with w = 0 (global connectivity).</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierGlobal
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerGlobal), FfnWidth = 331)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The conv classifier with a 9×9 window.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierWindow9
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerWindow9), FfnWidth = 328)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The conv classifier with a 13×13 window.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierWindow13
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerWindow13), FfnWidth = 322)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The window-only conv classifier with a 3×3 window.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierWindowOnly3
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerWindowOnly3), FfnWidth = 332)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The window-only conv classifier with a 9×9 window.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierWindowOnly9
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerWindowOnly9), FfnWidth = 328)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The window-only conv classifier with a 13×13 window (on the 14×14 grid of 28×28 images, nearly global).</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierWindowOnly13
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerWindowOnly13), FfnWidth = 322)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The conv classifier with 16 heads.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierHeads16
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerHeads16), FfnWidth = 325)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The conv classifier with 64 heads.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierHeads64
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerHeads64), FfnWidth = 291)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>The conv classifier with a raw kernel: w is learned directly, without the reparameterisation.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifierRawKernel
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageConvMixerRawKernel), FfnWidth = 331)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

/// <summary>AFT-simple over the grid's positions as one sequence (a reference for the conv classifier: no locality at all).</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class SimpleClassifier
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageSimpleMixer), FfnWidth = 305)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

#pragma warning disable AFT0402 // up to 256 patches (32×32 images) by design: forward checks H·W ≤ 256
/// <summary>AFT-full over the grid's positions as one sequence, learned pair-wise biases of rank 16 (a reference).</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class FullClassifier
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [Blocks(depth: 2, mixer: typeof(ImageFullMixer), FfnWidth = 241)] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

#pragma warning restore AFT0402
#pragma warning restore AFT0401

/// <summary>The Transformer baseline (a small ViT): multi-head attention over the 14×14 patches, learned positions.</summary>
[AftModel]
[ImageInput(channels: 1, Height = 28, Width = 28)]
public partial class AttentionClassifier
{
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
    [PositionEmbedding] public partial PositionEmbedding Positions { get; }
    [Blocks(depth: 2, mixer: typeof(ImageAttention))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}
