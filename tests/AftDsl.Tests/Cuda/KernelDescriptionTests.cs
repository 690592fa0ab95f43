using AftDsl.Cuda;
using AftDsl.Kernels;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Cuda;

/// <summary>The one line that says which kernels a forward pass on a device runs.</summary>
public sealed class KernelDescriptionTests
{
    sealed class NamedCompiler(string description) : ICudaCompiler
    {
        public string Description => description;
        public ICudaModule Compile(string name, string source, IReadOnlyList<KeyValuePair<string, string>> defines) => throw new NotSupportedException();
    }

    static IDisposable Use(AftKernelImplementation implementation)
    {
        var previous = AftKernels.Implementation;
        AftKernels.Implementation = implementation;
        return new Restore(() => AftKernels.Implementation = previous);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    static readonly Device Cuda = new(TorchSharp.DeviceType.CUDA, 0);

    [Fact]
    public void On_the_CPU_the_fused_kernels_are_the_CSharp_SIMD_kernels_with_their_thread_count()
    {
        using var _ = Use(AftKernelImplementation.Fused);
        var line = AftKernels.Describe(CPU);
        Assert.StartsWith("fused C# SIMD kernels (", line);
        Assert.Contains($"{get_num_threads()} threads", line);
    }

    [Fact]
    public void With_torch_chosen_every_device_runs_the_libtorch_operator_kernels()
    {
        using var _ = Use(AftKernelImplementation.Torch);
        Assert.StartsWith("libtorch-operator kernels (AFTDSL_KERNELS=torch", AftKernels.Describe(CPU));
        Assert.StartsWith("libtorch-operator kernels (AFTDSL_KERNELS=torch", AftKernels.Describe(Cuda, () => throw new InvalidOperationException("not asked")));
    }

    [Fact]
    public void On_CUDA_the_line_names_the_compiler()
    {
        using var _ = Use(AftKernelImplementation.Fused);
        Assert.Equal("fused CUDA kernels (NVRTC 13.0, sm_90)", AftKernels.Describe(Cuda, () => new NamedCompiler("NVRTC 13.0, sm_90")));
    }

    [Fact]
    public void On_CUDA_without_a_compiler_the_line_says_why_on_one_line()
    {
        using var _ = Use(AftKernelImplementation.Fused);
        var line = AftKernels.Describe(Cuda, () => throw new CudaException("Could not load NVRTC. Tried, in order:\n  here:\n    /x/libnvrtc.so.13 — no such file\nInstall it."));
        Assert.Equal("libtorch-operator kernels: fused CUDA kernels unavailable: Could not load NVRTC. Tried, in order: | here: | /x/libnvrtc.so.13 — no such file | Install it.", line);
    }
}
