using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>AFT-conv as a differentiable operation with the hand-written backward of <see cref="AftConvKernel"/>.</summary>
public static class AftConv
{
    /// <summary>
    /// Channels-last <paramref name="q"/>, <paramref name="v"/> <c>[B, *grid, D]</c> and <paramref name="k"/> <c>[B, *grid, heads]</c>
    /// with the effective kernel biases <paramref name="w"/> (<c>[heads, s]</c> for a sequence, <c>[heads, s, s]</c> for a grid)
    /// → <c>[B, *grid, D]</c>. <paramref name="connectivity"/>: whether sources outside the window count with w = 0
    /// (<see cref="AftConvConnectivity.Global"/>, the paper's) or not at all (<see cref="AftConvConnectivity.Window"/>).
    /// </summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor w, bool causal = false, AftConvConnectivity connectivity = AftConvConnectivity.Global) =>
        Function.apply(q, k, v, w, causal, connectivity);

    /// <summary>
    /// The paper's reparameterisation (Eq. 8), per head: w = γ · (w_raw − mean) / (std + ε) + β over the head's
    /// kernel taps (population std, so a one-tap kernel normalises to 0). With γ = β = 0, w = 0 and AFT-conv
    /// is exactly AFT-simple. Differentiable by autograd: it touches heads × s² numbers only.
    /// </summary>
    public static Tensor Reparameterise(Tensor raw, Tensor gamma, Tensor beta, double epsilon = 1e-5)
    {
        using var scope = NewDisposeScope();
        var flat = raw.flatten(1);
        var mean = flat.mean([1], keepdim: true);
        var std = flat.std(1, unbiased: false, keepdim: true);
        var normalised = ((flat - mean) / (std + epsilon)).view(raw.shape);
        var shape = new long[raw.dim()];
        Array.Fill(shape, 1L);
        shape[0] = raw.shape[0];
        return (gamma.view(shape) * normalised + beta.view(shape)).MoveToOuterDisposeScope();
    }

    sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => "AftConv";

        public override Tensor forward(AutogradContext ctx, params object[] vars) =>
            AftConvKernel.Forward(ctx, (Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3], (bool)vars[4], (AftConvConnectivity)vars[5]);

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad_output) =>
            [.. AftConvKernel.Backward(ctx, grad_output), null!, null!];
    }
}
