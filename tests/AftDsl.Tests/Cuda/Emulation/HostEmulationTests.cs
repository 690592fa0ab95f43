using AftDsl.Cuda;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Cuda.Emulation;

/// <summary>The host emulation itself: what the CUDA kernels' tests rely on.</summary>
public sealed class HostEmulationTests
{
    // Each block sums its slice with a warp shuffle reduction and shared memory, then adds it to a
    // global total with an atomic; the last block (ticket) also writes the number of blocks seen.
    const string Source = """
        extern "C" __global__ void block_sums(const float* x, float* sums, float* total, unsigned* ticket, int n)
        {
            __shared__ float partial[32];
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            float v = i < n ? x[i] : 0.0f;
            for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
            if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
            __syncthreads();
            if (threadIdx.x == 0) {
                float s = 0;
                for (int w = 0; w < (int)(blockDim.x / 32); w++) s += partial[w];
                sums[blockIdx.x] = s * SCALE;
                atomicAdd(total, s * SCALE);
                atomicAdd(ticket, 1u);
            }
        }
        """;

    [Fact]
    public void Runs_shared_memory_shuffles_and_atomics_like_a_GPU()
    {
        var module = HostEmulationCompiler.Instance.Compile("block_sums.cu", Source, [new("SCALE", "2.0f")]);
        var x = arange(300, dtype: ScalarType.Float32);
        var sums = zeros(5, dtype: ScalarType.Float32);
        var total = zeros(1, dtype: ScalarType.Float32);
        var ticket = zeros(1, dtype: ScalarType.Int32);
        using (var args = new KernelArguments().Tensor(x, ScalarType.Float32, "x").Tensor(sums, ScalarType.Float32, "sums")
                   .Tensor(total, ScalarType.Float32, "total").Tensor(ticket, ScalarType.Int32, "ticket").Int32(300))
            module.Launch("block_sums", new Dim3(5), new Dim3(64), 0, args);
        var expected = cat([x, zeros(20)]).view(5, 64).sum(1) * 2;
        Assert.Equal(expected.data<float>().ToArray(), sums.data<float>().ToArray());
        Assert.Equal(2 * 299 * 300 / 2f, total.item<float>());
        Assert.Equal(5, ticket.item<int>());
    }

    [Fact]
    public void A_kernel_that_does_not_compile_reports_the_compiler_log()
    {
        var error = Assert.Throws<CudaException>(() =>
            HostEmulationCompiler.Instance.Compile("broken.cu", "extern \"C\" __global__ void broken() { undefined_call(); }", []));
        Assert.Contains("broken.cu", error.Message);
        Assert.Contains("undefined_call", error.Message);
    }
}
