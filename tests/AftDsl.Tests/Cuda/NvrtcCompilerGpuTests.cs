using AftDsl.Cuda;
using AftDsl.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Cuda;

/// <summary>
/// NVRTC and the CUDA driver on a real GPU: compile, load, launch on TorchSharp's CUDA tensors, from any
/// thread, with large shared memory, through the disk cache. Skipped (and reported so) without a GPU.
/// </summary>
public sealed class NvrtcCompilerGpuTests : IDisposable
{
    readonly string cacheFolder = Path.Combine(Path.GetTempPath(), $"aftdsl-nvrtc-gpu-tests-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(cacheFolder)) Directory.Delete(cacheFolder, recursive: true);
    }

    const string Affine = """
        extern "C" __global__ void affine(const float* x, float* y, float a, float b, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = a * x[i] + b + SHIFT;
        }
        """;

    /// <summary>A compiler whose disk cache is this test's own folder.</summary>
    NvrtcCompiler CreateCompiler()
    {
        var previous = Environment.GetEnvironmentVariable(CubinCache.FolderVariable);
        Environment.SetEnvironmentVariable(CubinCache.FolderVariable, cacheFolder);
        try
        {
            using var _ = ones(1, device: CUDA);   // TorchSharp's CUDA state first, as in a real program
            return NvrtcCompiler.Create();
        }
        finally
        {
            Environment.SetEnvironmentVariable(CubinCache.FolderVariable, previous);
        }
    }

    static Tensor RunAffine(ICudaModule module, Tensor x)
    {
        var n = (int)x.numel();
        var y = full(n, float.NaN, dtype: ScalarType.Float32, device: x.device);
        using (var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(y, ScalarType.Float32, "y").Float32(2f).Float32(-1f).Int32(n))
            module.Launch("affine", new Dim3((uint)((n + 255) / 256)), new Dim3(256), 0, arguments);
        return y;
    }

    static Tensor ExpectedAffine(Tensor x) => x.cpu().to(ScalarType.Float64) * 2 - 1 + 0.25;

    [GpuFact]
    public void A_kernel_compiled_by_NVRTC_runs_on_a_CUDA_tensor_and_names_the_compiler()
    {
        var compiler = CreateCompiler();
        var module = compiler.Compile("affine.cu", Affine, [new("SHIFT", "0.25f")]);
        var x = linspace(-3, 3, 1000, dtype: ScalarType.Float32, device: CUDA);

        var y = RunAffine(module, x);

        TensorAssert.Close(ExpectedAffine(x), y.cpu(), 1e-6, "affine");
        Assert.Contains("NVRTC", compiler.Description);
        Assert.Matches("sm_[0-9]+|compute_[0-9]+", compiler.Description);
        Assert.Contains(cacheFolder, compiler.Description);
    }

    [GpuFact]
    public void A_launch_from_a_thread_with_no_current_context_runs_in_PyTorchs_context()
    {
        var module = CreateCompiler().Compile("affine.cu", Affine, [new("SHIFT", "0.25f")]);
        var x = linspace(-3, 3, 3000, dtype: ScalarType.Float32, device: CUDA);
        Tensor? y = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { y = RunAffine(module, x); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();

        Assert.Null(failure);
        TensorAssert.Close(ExpectedAffine(x), y!.cpu(), 1e-6, "affine from another thread");
    }

    [GpuFact]
    public void A_kernel_with_64_KiB_of_dynamic_shared_memory_is_allowed_it()
    {
        const string reverse = """
            extern "C" __global__ void reverse_blocks(const float* x, float* y, int per_block)
            {
                extern __shared__ float buffer[];
                for (int i = threadIdx.x; i < per_block; i += blockDim.x) buffer[i] = x[blockIdx.x * per_block + i];
                __syncthreads();
                for (int i = threadIdx.x; i < per_block; i += blockDim.x) y[blockIdx.x * per_block + i] = buffer[per_block - 1 - i];
            }
            """;
        const int perBlock = 16384;   // 64 KiB of floats: above the 48 KiB a kernel gets without opting in
        var module = CreateCompiler().Compile("reverse.cu", reverse, []);
        var x = randn(2 * perBlock, device: CUDA);
        var y = zeros(2 * perBlock, device: CUDA);
        using (var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(y, ScalarType.Float32, "y").Int32(perBlock))
            module.Launch("reverse_blocks", new Dim3(2), new Dim3(256), perBlock * sizeof(float), arguments);

        TensorAssert.BitIdentical(x.view(2, perBlock).flip(1).cpu(), y.view(2, perBlock).cpu(), "blocks reversed through shared memory");
    }

    [GpuFact]
    public void Compiled_kernels_are_cached_on_disk_and_a_damaged_entry_is_recompiled()
    {
        CreateCompiler().Compile("affine.cu", Affine, [new("SHIFT", "0.25f")]);
        var entry = Assert.Single(Directory.GetFiles(cacheFolder, "affine-*.cubin"));
        Assert.NotNull(CubinCache.Decode(File.ReadAllBytes(entry)));

        File.WriteAllText(entry, "damaged");
        var module = CreateCompiler().Compile("affine.cu", Affine, [new("SHIFT", "0.25f")]);

        Assert.NotNull(CubinCache.Decode(File.ReadAllBytes(entry)));
        var x = linspace(-1, 1, 100, dtype: ScalarType.Float32, device: CUDA);
        TensorAssert.Close(ExpectedAffine(x), RunAffine(module, x).cpu(), 1e-6, "affine from a recompiled entry");
    }

    [GpuFact]
    public void A_kernel_that_does_not_compile_reports_its_name_constants_and_the_NVRTC_log()
    {
        var error = Assert.Throws<CudaException>(() =>
            CreateCompiler().Compile("broken.cu", "extern \"C\" __global__ void broken(float* y) { y[0] = undefined_thing; }", [new("WIDTH", "3")]));
        Assert.Contains("broken.cu", error.Message);
        Assert.Contains("WIDTH=3", error.Message);
        Assert.Contains("undefined_thing", error.Message);
        Assert.Contains("NVRTC", error.Message);
    }

    [GpuFact]
    public void The_common_header_compiles_and_rounds_to_bfloat16_as_torch_does()
    {
        var source = CudaKernels.Source("aft_common.cuh") + """

            extern "C" __global__ void to_bf16(const float* x, aft_elem* y, int n)
            {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) aft_store(y, i, x[i]);
            }
            extern "C" __global__ void from_bf16(const aft_elem* y, float* z, int n)
            {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) z[i] = aft_load(y, i);
            }
            """;
        var module = CreateCompiler().Compile("bf16.cu", source, [new("AFT_BF16", "1")]);
        var x = cat([randn(4000) * 100, randn(4000) * 1e-3f, tensor(new[] { float.PositiveInfinity, float.NegativeInfinity, 3.0e38f, 1.0f + 1.0f / 256 })]).to(CUDA);
        var n = (int)x.numel();
        var y = empty(n, dtype: ScalarType.BFloat16, device: CUDA);
        var z = empty(n, dtype: ScalarType.Float32, device: CUDA);
        var grid = new Dim3((uint)((n + 255) / 256));
        using (var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(y, ScalarType.BFloat16, "y").Int32(n))
            module.Launch("to_bf16", grid, new Dim3(256), 0, arguments);
        using (var arguments = new KernelArguments().Tensor(y, ScalarType.BFloat16, "y").Tensor(z, ScalarType.Float32, "z").Int32(n))
            module.Launch("from_bf16", grid, new Dim3(256), 0, arguments);

        TensorAssert.BitIdentical(x.to(ScalarType.BFloat16).cpu(), y.cpu(), "float32 → bfloat16");
        TensorAssert.BitIdentical(y.to(ScalarType.Float32).cpu(), z.cpu(), "bfloat16 → float32");
    }

    [GpuFact]
    public void An_empty_grid_launches_nothing_and_does_not_fail()
    {
        var module = CreateCompiler().Compile("affine.cu", Affine, [new("SHIFT", "0.25f")]);
        var x = empty(0, device: CUDA);
        using var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(x, ScalarType.Float32, "y").Float32(1).Float32(0).Int32(0);
        module.Launch("affine", new Dim3(0), new Dim3(256), 0, arguments);
    }
}
