using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Modules;

/// <summary>
/// Global average pooling over every position (a sequence's T or a grid's H·W), then a linear map to
/// class logits <c>[B, classes]</c>: the paper's AFT-conv classifier drops the class token and pools.
/// State-dict name: <c>classifier</c>.
/// </summary>
public sealed class ClassifierHead : nn.Module<Tensor, Tensor>
{
    private readonly Linear classifier;

    /// <summary>A head from width <paramref name="dim"/> to <paramref name="classes"/> logits.</summary>
    public ClassifierHead(long dim, long classes) : base(nameof(ClassifierHead))
    {
        classifier = nn.Linear(dim, classes);
        RegisterComponents();
    }

    /// <summary><c>[B, T, dim]</c> or <c>[B, H, W, dim]</c> → <c>[B, classes]</c>.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var pooled = x.reshape(x.shape[0], -1, x.shape[^1]).mean([1]);
        return classifier.forward(pooled).MoveToOuterDisposeScope();
    }
}
