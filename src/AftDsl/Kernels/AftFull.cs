using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>AFT-full as a differentiable operation with the hand-written backward of <see cref="AftFullKernel"/>.</summary>
public static class AftFull
{
    /// <summary>
    /// <c>[B, T, H]</c> query, key and value, and the bias factors U, W (<c>[maxLength, rank]</c>, maxLength ≥ T)
    /// of w = U·Wᵀ → <c>[B, T, H]</c>.
    /// </summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, bool causal) => Function.apply(q, k, v, u, w, causal);

    sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => "AftFull";

        public override Tensor forward(AutogradContext ctx, params object[] vars) =>
            AftFullKernel.Forward(ctx, (Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4], (bool)vars[5]);

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output) =>
            [.. AftFullKernel.Backward(ctx, grad_output), null!];
    }
}
