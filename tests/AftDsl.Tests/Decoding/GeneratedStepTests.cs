using AftDsl.Decoding;
using AftDsl.Modules;
using AftDsl.Tests.Layers;
using AftDsl.Tests.Support;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Decoding;

[MultiHeadAttention(heads: 2, Dim = 8, Causal = true)]
public partial class CausalAttentionMixer;

[AftSimple(Causal = true)]
public partial class UnboundedMixer;

/// <summary>An AFT-simple model without a position embedding: nothing bounds how far it decodes.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 16, maxLength: 8)]
public partial class UnboundedLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 1, mixer: typeof(UnboundedMixer))] public partial BlockStack Body { get; }
    [Logits] public partial Linear Head { get; }
}

[AftLocal(window: 3, maxLength: 16, Dim = 8, Causal = true)]
public partial class LongerBiasMixer;

[AftLocal(window: 3, maxLength: 8, Dim = 8, Causal = true)]
public partial class ShorterBiasMixer;

/// <summary>Two stacks whose position biases end at different lengths: the second one bounds the model.</summary>
[AftModel(Causal = true)]
[TokenInput(vocab: 16, maxLength: 8)]
public partial class TwoBoundLm
{
    [Embedding(dim: 8)] public partial Embedding Embed { get; }
    [Blocks(depth: 1, mixer: typeof(LongerBiasMixer))] public partial BlockStack First { get; }
    [Blocks(depth: 1, mixer: typeof(ShorterBiasMixer))] public partial BlockStack Second { get; }
    [Logits] public partial Linear Head { get; }
}

/// <summary>The generated BeginDecoding and Step of layers and models, as a user calls them.</summary>
public sealed class GeneratedStepTests
{
    public static TheoryData<string> CausalMixers() => new(["full", "local", "simple", "conv", "attention"]);

    static nn.Module<Tensor, Tensor> Create(string name) => name switch
    {
        "full" => new CausalMixer(),
        "local" => new CausalLocalMixer(),
        "simple" => new CausalSimpleMixer(),
        "conv" => new CausalConvMixer(),
        _ => new CausalAttentionMixer(),
    };

    [Theory]
    [MemberData(nameof(CausalMixers))]
    public void A_causal_mixer_steps_to_its_forward(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var mixer = Create(name);
        mixer.to(float64);
        var dim = name == "conv" ? 4 : 8;
        var input = randn([3, 9, dim], dtype: float64);
        var decoding = Assert.IsAssignableFrom<IDecodingMixer>(mixer);
        using var state = decoding.BeginDecoding(3);
        var stepped = stack(Enumerable.Range(0, 9).Select(t => decoding.Step(input.select(1, t), state)).ToArray(), 1);
        Tensor full;
        using (no_grad())
            full = mixer.forward(input);
        StepExactnessTests.AssertRelativelyClose(full, stepped, 1e-10, name);
        Assert.Equal(9, state.Position);
    }

    [Fact]
    public void Non_causal_and_grid_mixers_have_no_decoding_API()
    {
        Assert.False(typeof(IDecodingMixer).IsAssignableFrom(typeof(BidirectionalMixer)));
        Assert.False(typeof(IDecodingMixer).IsAssignableFrom(typeof(GridMixer)));
        Assert.Null(typeof(BidirectionalMixer).GetMethod("BeginDecoding"));
    }

    [Fact]
    public void A_step_guard_names_the_layer_and_the_shape_it_takes()
    {
        using var scope = NewDisposeScope();
        var mixer = new CausalSimpleMixer();
        using var state = mixer.BeginDecoding(2);
        var error = Assert.Throws<AftShapeException>(() => mixer.Step(randn(2, 5, 8), state));
        Assert.Contains("AftSimple 'CausalSimpleMixer'", error.Message);
        Assert.Contains("a whole sequence [B, T, dim] goes through forward", error.Message);
        var other = new CausalLocalMixer();
        using var otherState = other.BeginDecoding(2);
        var wrong = Assert.Throws<ArgumentException>(() => ((IDecodingMixer)mixer).Step(randn(2, 8), otherState));
        Assert.Contains("AftSimpleDecodingState", wrong.Message);
    }

    [Fact]
    public void A_model_without_position_parameters_decodes_past_its_max_length()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        var model = new UnboundedLm();
        Assert.Null(model.MaxDecodingLength);
        using var state = model.BeginDecoding(batch: 2);
        var tokens = randint(0, 16, [2, 20], dtype: int64);
        var last = Enumerable.Range(0, 20).Select(t => model.Step(tokens.select(1, t), state)).ToList()[^1];
        Assert.Equal(20, state.Position);
        TensorAssert.AllFinite(last, "logits at position 19");
        // AFT-simple without positions: the logits at position 19 are a function of the prefix, which forward cannot
        // take past maxLength 8; the step state's running sums stay O(d).
        Assert.Equal(2 * 3 * 8 * sizeof(float), state.ByteCount);
    }

    [Fact]
    public void A_step_past_the_bound_is_refused_before_any_stage_moves_on()
    {
        using var scope = NewDisposeScope();
        var model = new TwoBoundLm();
        Assert.Equal(8, model.MaxDecodingLength);
        using var state = model.BeginDecoding(1);
        for (var t = 0; t < 8; t++)
            model.Step(tensor(new long[] { t }), state);
        var error = Assert.Throws<DecodingLengthException>(() => model.Step(tensor(new long[] { 1 }), state));
        Assert.Contains("position biases of Second's mixers", error.Message);
        var mixers = state.Stages.Cast<BlockStackDecodingState>().SelectMany(stack => stack.Mixers).ToList();
        Assert.Equal(2, mixers.Count);
        Assert.All(mixers, mixer => Assert.Equal(8, mixer.Position));                         // no stack moved on
    }
}
