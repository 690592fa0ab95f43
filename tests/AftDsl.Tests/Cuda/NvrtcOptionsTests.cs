using AftDsl.Cuda;
using Xunit;

namespace AftDsl.Tests.Cuda;

/// <summary>The NVRTC command line: the architecture, the exact-maths flags and the constants.</summary>
public sealed class NvrtcOptionsTests
{
    [Fact]
    public void Options_name_the_architecture_the_dialect_flush_to_zero_and_each_constant()
    {
        var options = NvrtcOptions.For("sm_90", [new("WIDTH", "512"), new("CAUSAL", "1")]);
        Assert.Equal("--gpu-architecture=sm_90", options[0]);
        Assert.Contains("--std=c++17", options);
        Assert.Contains("--ftz=true", options);
        Assert.Contains("-DAFT_CUDA=1", options);
        Assert.Equal(["-DWIDTH=512", "-DCAUSAL=1"], options.TakeLast(2));
    }

    [Fact]
    public void Fast_math_is_not_used_because_it_would_make_exp_and_division_approximate()
    {
        var options = NvrtcOptions.For("sm_90", []);
        Assert.DoesNotContain(options, o => o.Contains("fast_math") || o.Contains("fast-math") || o.StartsWith("--prec-div=false") || o.StartsWith("-use_fast_math"));
    }

    [Fact]
    public void A_constant_whose_name_is_not_an_identifier_is_refused()
    {
        Assert.Throws<ArgumentException>(() => NvrtcOptions.For("sm_90", [new("A B", "1")]));
        Assert.Throws<ArgumentException>(() => NvrtcOptions.For("sm_90", [new("1A", "1")]));
    }
}
