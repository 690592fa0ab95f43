using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>AFT-simple as a differentiable operation with the hand-written backward of <see cref="AftSimpleKernel"/>.</summary>
public static class AftSimple
{
    /// <summary><c>[B, T, H]</c> query, key and value → <c>[B, T, H]</c>.</summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, bool causal) => Function.apply(q, k, v, causal);

    sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => "AftSimple";

        public override Tensor forward(AutogradContext ctx, params object[] vars) =>
            AftSimpleKernel.Forward(ctx, (Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (bool)vars[3]);

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output) =>
            [.. AftSimpleKernel.Backward(ctx, grad_output), null!];
    }
}
