using AftDsl.Kernels;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>Which path a forward takes: the fused kernel, or the operator kernels where those measure faster.</summary>
public class KernelDispatchTests
{
    static readonly FusedKernels kernels = new("Probe", CpuDtypes: [ScalarType.Float32], CudaDtypes: [ScalarType.Float32]);

    [Fact]
    public void A_case_where_the_operators_measure_faster_runs_them_unless_fused_kernels_are_asked_for_everywhere()
    {
        using var input = zeros(1, 4, 2);
        Assert.Equal(KernelPath.Cpu, KernelDispatch.Choose(kernels, input));
        Assert.Equal(KernelPath.Torch, KernelDispatch.Choose(kernels, input, cpuPreferred: false));
        Assert.Equal(KernelPath.Cpu, KernelDispatch.Choose(kernels, input, cudaPreferred: false));      // a CUDA preference: no say on the CPU
        try
        {
            AftKernels.FusedEverywhere = true;
            Assert.Equal(KernelPath.Cpu, KernelDispatch.Choose(kernels, input, cpuPreferred: false));
        }
        finally
        {
            AftKernels.FusedEverywhere = false;
        }
    }

    [Fact]
    public void A_dtype_without_a_fused_kernel_runs_the_operators_even_when_fused_kernels_are_asked_for_everywhere()
    {
        using var input = zeros(1, 4, 2, dtype: ScalarType.Float64);
        try
        {
            AftKernels.FusedEverywhere = true;
            Assert.Equal(KernelPath.Torch, KernelDispatch.Choose(kernels, input));
        }
        finally
        {
            AftKernels.FusedEverywhere = false;
        }
    }
}
