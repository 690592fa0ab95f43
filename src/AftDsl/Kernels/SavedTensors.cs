using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>What a fused kernel keeps for its backward pass.</summary>
internal static class SavedTensors
{
    /// <summary>
    /// Saves <paramref name="inputs"/> (owned by the caller) and <paramref name="created"/> (made in the
    /// kernel's dispose scope). Autograd takes its own references only after forward returns, so the
    /// created tensors are moved out of the kernel's scope to live until the caller's scope ends.
    /// </summary>
    public static void Save(AutogradContext ctx, Tensor[] inputs, Tensor[] created)
    {
        // Distinct: moving the same tensor twice would carry it out of the caller's scope as well.
        foreach (var tensor in created.Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>())
            tensor.MoveToOuterDisposeScope();
        ctx.save_for_backward([.. inputs, .. created]);
    }
}
