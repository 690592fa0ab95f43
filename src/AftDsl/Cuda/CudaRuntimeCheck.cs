using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Cuda;

/// <summary>
/// Checks the CUDA runtime itself on a GPU, for hosts where the test suite cannot run (a published app and
/// no .NET SDK): NVRTC compiles and the driver launches on TorchSharp's CUDA tensors, from a thread with no
/// current context, with more than 48 KiB of dynamic shared memory, through the disk cache, with compile
/// errors reported, and the kernels' common header rounds to bfloat16 as torch does. Expected values come
/// from torch on the CPU in float64, never from the kernels checked.
/// </summary>
public static class CudaRuntimeCheck
{
    /// <summary>One check: what it tried, whether it passed, and what it measured or why it failed.</summary>
    public sealed record Result(string Check, bool Passed, string Detail);

    const string Affine = """
        extern "C" __global__ void affine(const float* x, float* y, float a, float b, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = a * x[i] + b + SHIFT;
        }
        """;

    const string Reverse = """
        extern "C" __global__ void reverse_blocks(const float* x, float* y, int per_block)
        {
            extern __shared__ float buffer[];
            for (int i = threadIdx.x; i < per_block; i += blockDim.x) buffer[i] = x[blockIdx.x * per_block + i];
            __syncthreads();
            for (int i = threadIdx.x; i < per_block; i += blockDim.x) y[blockIdx.x * per_block + i] = buffer[per_block - 1 - i];
        }
        """;

    const string Bfloat16 = """

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

    /// <summary>Runs every check on <paramref name="device"/> (a CUDA device TorchSharp has initialised).</summary>
    public static IReadOnlyList<Result> Run(Device device)
    {
        var results = new List<Result>();
        NvrtcCompiler compiler;
        try
        {
            using var warmUp = ones(1, device: device);   // TorchSharp's CUDA state first, as in a real program
            compiler = NvrtcCompiler.Create();
            results.Add(new("load NVRTC and the driver", true, $"{compiler.Description}; NVRTC from {compiler.NvrtcLibrary}"));
        }
        catch (CudaException e)
        {
            results.Add(new("load NVRTC and the driver", false, e.Message));
            return results;
        }

        results.Add(Check("compile and launch on a CUDA tensor", () =>
        {
            var module = compiler.Compile("check_affine.cu", Affine, [new("SHIFT", "0.25f")]);
            return CompareAffine(module, device, 4096, "y = 2x − 1 + 0.25");
        }));
        results.Add(Check("launch from a thread with no current context", () =>
        {
            var module = compiler.Compile("check_affine.cu", Affine, [new("SHIFT", "0.25f")]);
            string? detail = null;
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try { detail = CompareAffine(module, device, 3000, "from a new thread"); }
                catch (Exception e) { failure = e; }
            });
            thread.Start();
            thread.Join();
            return failure is null ? detail! : throw new InvalidOperationException(failure.Message, failure);
        }));
        results.Add(Check("64 KiB of dynamic shared memory", () =>
        {
            const int perBlock = 16384;
            var module = compiler.Compile("check_reverse.cu", Reverse, []);
            using var x = randn(2 * perBlock, device: device);
            using var y = zeros(2 * perBlock, device: device);
            using (var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(y, ScalarType.Float32, "y").Int32(perBlock))
                module.Launch("reverse_blocks", new Dim3(2), new Dim3(256), perBlock * sizeof(float), arguments);
            using var expected = x.view(2, perBlock).flip(1).cpu();
            using var actual = y.view(2, perBlock).cpu();
            return BitIdentical(expected, actual) ? "2 blocks of 16,384 floats reversed through shared memory, bit-identical"
                : throw new InvalidOperationException("the blocks came back wrong");
        }));
        results.Add(Check("disk cache", () =>
        {
            if (compiler.CacheFolder is not { } folder) return $"off ({CubinCache.FolderVariable}=off)";
            var entries = Directory.Exists(folder) ? Directory.GetFiles(folder, "check_affine-*.cubin") : [];
            return entries.Length > 0 && entries.All(e => CubinCache.Decode(File.ReadAllBytes(e)) is not null)
                ? $"{entries.Length} valid entr{(entries.Length == 1 ? "y" : "ies")} for check_affine.cu in {folder}"
                : throw new InvalidOperationException($"no valid entry for check_affine.cu in {folder}");
        }));
        results.Add(Check("compile errors carry the NVRTC log", () =>
        {
            try
            {
                compiler.Compile("check_broken.cu", "extern \"C\" __global__ void broken(float* y) { y[0] = undefined_thing; }", [new("WIDTH", "3")]);
            }
            catch (CudaException e) when (e.Message.Contains("undefined_thing") && e.Message.Contains("check_broken.cu") && e.Message.Contains("WIDTH=3"))
            {
                return "the message names the source, its constants and the undefined identifier";
            }
            throw new InvalidOperationException("a broken source compiled, or its error lacked the log");
        }));
        results.Add(Check("bfloat16 rounding of aft_common.cuh", () =>
        {
            var module = compiler.Compile("check_bf16.cu", CudaKernels.Source("aft_common.cuh") + Bfloat16, [new("AFT_BF16", "1")]);
            using var values = cat([randn(4000) * 100, randn(4000) * 1e-3f, tensor(new[] { float.PositiveInfinity, float.NegativeInfinity, 3.0e38f, 1.0f + 1.0f / 256 })]);
            using var x = values.to(device);
            var n = (int)x.numel();
            using var y = empty(n, dtype: ScalarType.BFloat16, device: device);
            using var z = empty(n, dtype: ScalarType.Float32, device: device);
            var grid = new Dim3((uint)((n + 255) / 256));
            using (var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(y, ScalarType.BFloat16, "y").Int32(n))
                module.Launch("to_bf16", grid, new Dim3(256), 0, arguments);
            using (var arguments = new KernelArguments().Tensor(y, ScalarType.BFloat16, "y").Tensor(z, ScalarType.Float32, "z").Int32(n))
                module.Launch("from_bf16", grid, new Dim3(256), 0, arguments);
            using var torchRounded = values.to(ScalarType.BFloat16);
            using var kernelRounded = y.cpu();
            using var widened = z.cpu();
            using var torchWidened = kernelRounded.to(ScalarType.Float32);
            var rounding = BitIdentical(torchRounded, kernelRounded);
            var widening = BitIdentical(torchWidened, widened);
            return rounding && widening ? $"{n} values rounded to bfloat16 and back bit-identically to torch"
                : throw new InvalidOperationException($"differs from torch: rounding {(rounding ? "same" : "DIFFERENT")}, widening {(widening ? "same" : "DIFFERENT")}");
        }));
        return results;
    }

    static string CompareAffine(ICudaModule module, Device device, int n, string what)
    {
        using var x = linspace(-3, 3, n, dtype: ScalarType.Float32, device: device);
        using var y = full(n, float.NaN, dtype: ScalarType.Float32, device: device);
        using (var arguments = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(y, ScalarType.Float32, "y").Float32(2f).Float32(-1f).Int32(n))
            module.Launch("affine", new Dim3((uint)((n + 255) / 256)), new Dim3(256), 0, arguments);
        using var expected = x.cpu().to(ScalarType.Float64) * 2 - 1 + 0.25;
        using var error = (y.cpu().to(ScalarType.Float64) - expected).abs().max();
        var worst = error.item<double>();
        return worst <= 1e-6 ? $"{what}: {n} values, largest error {worst:E1}"
            : throw new InvalidOperationException($"{what}: largest error {worst:E3} (NaN: the kernel did not write)");
    }

    static bool BitIdentical(Tensor expected, Tensor actual) =>
        expected.dtype == actual.dtype && expected.shape.SequenceEqual(actual.shape) &&
        expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes);

    static Result Check(string name, Func<string> check)
    {
        try
        {
            return new(name, true, check());
        }
        catch (Exception e) when (e is CudaException or InvalidOperationException or ArgumentException or ExternalException)
        {
            return new(name, false, e.Message);
        }
    }
}
