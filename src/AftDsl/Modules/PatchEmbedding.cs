using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Modules;

/// <summary>
/// Cuts channels-first images <c>[B, C, H, W]</c> into non-overlapping patch × patch patches and embeds
/// each (a strided convolution), giving a channels-last grid <c>[B, H / patch, W / patch, dim]</c>.
/// State-dict name: <c>projection</c>.
/// </summary>
public sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d projection;

    /// <summary>Embeds <paramref name="patch"/> × <paramref name="patch"/> patches of <paramref name="channels"/>-channel images into <paramref name="dim"/> features.</summary>
    public PatchEmbedding(long channels, long patch, long dim) : base(nameof(PatchEmbedding))
    {
        Patch = patch;
        projection = nn.Conv2d(channels, dim, patch, stride: patch);
        RegisterComponents();
    }

    /// <summary>Side of the square patches.</summary>
    public long Patch { get; }

    /// <summary>Trainable parameters: the convolution's weight and bias.</summary>
    public static long ParameterCount(long channels, long patch, long dim) => channels * patch * patch * dim + dim;

    /// <summary><c>[B, C, H, W]</c> → <c>[B, H / patch, W / patch, dim]</c>.</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return projection.forward(images).permute(0, 2, 3, 1).contiguous().MoveToOuterDisposeScope();
    }
}
