using AftLab.Runtime;

namespace AftLab.Tests.Runtime;

/// <summary>When peak GPU memory can be read (PyTorch's cudaMallocAsync backend), what a run says when it cannot, and how it is written.</summary>
public sealed class GpuMemoryPeakTests
{
    [Theory]
    [InlineData("backend:cudaMallocAsync", true)]
    [InlineData(" backend : cudaMallocAsync ", true)]
    [InlineData("release_threshold:0,backend:cudaMallocAsync", true)]
    [InlineData("backend:native", false)]
    [InlineData("expandable_segments:True", false)]
    [InlineData("cudaMallocAsync", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Only_the_cudaMallocAsync_backend_allocates_from_the_pool_that_is_read(string? configuration, bool selects) =>
        Assert.Equal(selects, GpuMemoryPeak.SelectsPoolAllocator(configuration));

    [Fact]
    public void Without_the_pool_allocator_the_notice_says_why_and_how_to_enable_it()
    {
        var notice = GpuMemoryPeak.Unavailable(null, "expandable_segments:True");
        Assert.NotNull(notice);
        Assert.Contains("default caching allocator", notice);
        Assert.Contains("PYTORCH_CUDA_ALLOC_CONF=backend:cudaMallocAsync", notice);
        Assert.DoesNotContain("\n", notice);
        Assert.Null(GpuMemoryPeak.Unavailable("backend:cudaMallocAsync", null));
        Assert.Null(GpuMemoryPeak.Unavailable(null, "backend:cudaMallocAsync"));     // PyTorch's newer, device-neutral variable
    }

    [Theory]
    [InlineData(3_446_789_120L, "3.21 GiB (3,446,789,120 bytes)")]
    [InlineData(52_428_800L, "50.0 MiB (52,428,800 bytes)")]
    public void A_peak_reads_in_GiB_or_MiB_with_the_exact_bytes(long bytes, string text) =>
        Assert.Equal(text, GpuMemoryPeak.Describe(bytes));
}
