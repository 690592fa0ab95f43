using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>AFT-local as a differentiable operation with the hand-written backward of <see cref="AftLocalKernel"/>.</summary>
public static class AftLocal
{
    /// <summary>
    /// <c>[B, T, H]</c> query, key and value, bias factors U, W (<c>[maxLength, rank]</c>) and the window s:
    /// w = U·Wᵀ where |t − t'| &lt; s, 0 elsewhere → <c>[B, T, H]</c>.
    /// </summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor u, Tensor w, long window, bool causal) =>
        Function.apply(q, k, v, u, w, window, causal);

    sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => "AftLocal";

        public override Tensor forward(AutogradContext ctx, params object[] vars) =>
            AftLocalKernel.Forward(ctx, (Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (Tensor)vars[4], (long)vars[5], (bool)vars[6]);

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output) =>
            [.. AftLocalKernel.Backward(ctx, grad_output), null!, null!];
    }
}
