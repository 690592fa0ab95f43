using AftDsl.Kernels.Cpu;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-conv (paper Eq. 6): per head, a depthwise convolution with the kernel exp(w) − 1 plus global sums (or, with
/// <see cref="AftConvConnectivity.Window"/>, with the kernel exp(w) and no global sums), channels-last, on a 1-d sequence or a 2-d grid of any size. Each forward runs the fused kernel for its tensors' device and dtype
/// (<see cref="AftKernels.Implementation"/>), or <see cref="AftConvOperators"/>, the libtorch-operator
/// reference; its backward runs on the same path.
/// </summary>
public static class AftConvKernel
{
    static readonly FusedKernels kernels = new("AftConv", CpuDtypes: [ScalarType.Float32, ScalarType.Float64], CudaDtypes: [ScalarType.Float32, ScalarType.BFloat16]);

    /// <summary><paramref name="q"/>, <paramref name="v"/>: <c>[B, *grid, D]</c>; <paramref name="k"/>: <c>[B, *grid, heads]</c>; <paramref name="w"/>: the effective kernel biases, <c>[heads, s]</c> or <c>[heads, s, s]</c>;
    /// <paramref name="connectivity"/>: <see cref="AftConvConnectivity.Global"/> (sources outside the window count with w = 0) or
    /// <see cref="AftConvConnectivity.Window"/> (they do not count).</summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor w, bool causal, AftConvConnectivity connectivity = AftConvConnectivity.Global)
    {
        var windowOnly = connectivity switch
        {
            AftConvConnectivity.Global => false,
            AftConvConnectivity.Window => true,
            _ => throw new ArgumentOutOfRangeException(nameof(connectivity), connectivity, "AFT-conv connectivity is Global or Window."),
        };
        return KernelDispatch.Forward(ctx, kernels, q,
            torch: () => AftConvOperators.Forward(ctx, q, k, v, w, causal, windowOnly),
            cpu: () => AftConvCpu.Forward(ctx, q, k, v, w, causal, windowOnly),
            cuda: () => Cuda.AftConvCuda.Forward(ctx, q, k, v, w, causal, windowOnly));
    }

    /// <summary>Gradients of the differentiable inputs, in the order of <see cref="Forward"/>'s parameters, for the output gradient <paramref name="grad"/>.</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad) =>
        KernelDispatch.Backward(ctx, grad,
            torch: () => AftConvOperators.Backward(ctx, grad),
            cpu: () => AftConvCpu.Backward(ctx, grad),
            cuda: () => Cuda.AftConvCuda.Backward(ctx, grad));
}
