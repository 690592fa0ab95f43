using AftDsl.Decoding;
using AftDsl.Modules;
using AftDsl.Tests.Layers;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Decoding;

/// <summary>A BeginDecoding that fails part-way disposes the states it had already created.</summary>
public sealed class FailedBeginTests
{
    static long LiveTensors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return DisposeScopeManager.Statistics.ThreadTotalLiveCount;
    }

    [Fact]
    public void A_stack_whose_second_block_cannot_decode_frees_the_first_blocks_state()
    {
        using var scope = NewDisposeScope();
        // The first block's causal mixer makes its state; the second's mixer is not causal, so its BeginDecoding throws.
        var stack = new BlockStack([new PreNormBlock(new CausalSimpleMixer(), 8), new PreNormBlock(new BidirectionalMixer(), 8)]);
        Assert.Throws<InvalidOperationException>(() => stack.BeginDecoding(2));    // the first call warms lazy statics
        var before = LiveTensors();
        var error = Assert.Throws<InvalidOperationException>(() => stack.BeginDecoding(2));
        Assert.Contains("cannot decode step by step", error.Message);
        Assert.Equal(before, LiveTensors());
    }

    [Fact]
    public void A_model_whose_second_stack_fails_frees_the_first_stacks_state()
    {
        using var scope = NewDisposeScope();
        var model = new TwoBoundLm();
        model.BeginDecoding(1).Dispose();
        // Disposing a parameter of the second stack's mixer makes its BeginDecoding (which takes the parameter's dtype) throw.
        var projections = model.named_modules().Where(m => m.name.EndsWith("q_proj", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, projections.Count);                                          // the first stack's, then the second's
        ((Linear)projections[1].module).weight!.Dispose();
        var before = LiveTensors();
        Assert.ThrowsAny<Exception>(() => model.BeginDecoding(1));
        Assert.Equal(before, LiveTensors());
    }
}
