using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// A block's feed-forward network on the rows of a decoding step: its two <see cref="Linear"/> layers through
/// <see cref="StepLinear"/> (a C# loop on a few CPU rows), the activation between them as the network has it (the exact GELU on float32
/// CPU rows in C#: <see cref="StepGelu"/>).
/// Any other network runs its own forward.
/// </summary>
public static class StepFeedForward
{
    /// <summary><paramref name="ffn"/> applied to <paramref name="x"/> <c>[B, dim]</c>, as its forward computes it (to float rounding).</summary>
    public static Tensor Forward(Sequential ffn, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(ffn);
        if (ffn.Count != 3 || ffn[0] is not Linear widen || ffn[1] is not nn.Module<Tensor, Tensor> activation || ffn[2] is not Linear narrow)
            return ffn.forward(x);
        using var scope = NewDisposeScope();
        var hidden = StepLinear.Forward(widen, x);
        if (activation is GELU { approximate: GELU.Approximate.none } && !is_grad_enabled() && StepGelu.Applies(hidden))
            StepGelu.InPlace(hidden);
        else
            hidden = activation.forward(hidden);
        return StepLinear.Forward(narrow, hidden).MoveToOuterDisposeScope();
    }
}
