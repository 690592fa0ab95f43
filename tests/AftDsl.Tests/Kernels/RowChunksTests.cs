using AftDsl.Kernels;
using TorchSharp;
using Xunit;

namespace AftDsl.Tests.Kernels;

/// <summary>How the fused T×T kernels cut their target rows, on a CPU and on an accelerator.</summary>
public sealed class RowChunksTests
{
    static long[] Lengths(long length, long batch, bool causal, DeviceType device) =>
        [.. RowChunks.Of(length, batch, causal, device).Select(c => c.Length)];

    [Theory]
    [InlineData(DeviceType.CPU)]
    [InlineData(DeviceType.CUDA)]
    public void Chunks_cover_every_row_once_in_order(DeviceType device)
    {
        foreach (var (length, batch, causal) in new[] { (150L, 2L, true), (1000L, 3L, false), (16384L, 2L, true), (1L, 1L, true) })
        {
            var next = 0L;
            foreach (var (start, count) in RowChunks.Of(length, batch, causal, device))
            {
                Assert.Equal(next, start);
                Assert.True(count > 0);
                next += count;
            }
            Assert.Equal(length, next);
        }
    }

    [Fact]
    public void Causal_chunks_on_a_cpu_are_an_eighth_of_the_rows_in_multiples_of_64()
    {
        Assert.Equal([64, 64, 22], Lengths(150, 2, causal: true, DeviceType.CPU));
        Assert.Equal(Enumerable.Repeat(128L, 8), Lengths(1024, 1, causal: true, DeviceType.CPU));
    }

    [Fact]
    public void Causal_chunks_on_an_accelerator_keep_at_least_256_rows()
    {
        Assert.Equal(Enumerable.Repeat(256L, 4), Lengths(1024, 32, causal: true, DeviceType.CUDA));
        Assert.Equal(Enumerable.Repeat(512L, 8), Lengths(4096, 8, causal: true, DeviceType.CUDA));
        Assert.Equal(Enumerable.Repeat(2048L, 8), Lengths(16384, 2, causal: true, DeviceType.CUDA));
    }

    [Fact]
    public void Non_causal_chunks_on_an_accelerator_fill_the_element_budget()
    {
        Assert.Equal([1024L], Lengths(1024, 32, causal: false, DeviceType.CUDA));
        Assert.Equal([4096L, 4096L, 4096L, 4096L], Lengths(16384, 2, causal: false, DeviceType.CUDA));
    }
}
