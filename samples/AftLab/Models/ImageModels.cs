using AftDsl;
using AftDsl.Modules;
using TorchSharp.Modules;

namespace AftLab.Models;

// Image classifiers (the paper's ImageNet experiment, here on Fashion-MNIST): 2×2 patches, global
// average pooling. The AFT-conv model has no absolute positions, so it runs on any image size.

[AftConv(heads: 8, window: 5)] public partial class ImageConvMixer;
[MultiHeadAttention(heads: 4)] public partial class ImageAttention;

/// <summary>AFT-conv classifier: any image size divisible by the patch.</summary>
[AftModel]
[ImageInput(channels: 1)]
public partial class ConvClassifier
{
#pragma warning disable AFT0401 // any image size by design: forward checks that each batch's sides are even
    [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
#pragma warning restore AFT0401
    [Blocks(depth: 2, mixer: typeof(ImageConvMixer))] public partial BlockStack Body { get; }
    [FinalNorm] public partial LayerNorm Norm { get; }
    [ClassifierHead(classes: 10)] public partial ClassifierHead Head { get; }
}

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
