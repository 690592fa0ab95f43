using AftDsl.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Models;

/// <summary>Generated models: they run forward and backward, count their parameters as TorchSharp does, and guard their input.</summary>
public sealed class ModelTests
{
    public static TheoryData<string> Models => new() { nameof(TinyLm), nameof(TinyWideFfnLm), nameof(TinyAttentionLm), nameof(TinyConvClassifier), nameof(TinyGridSimple) };

    static (nn.Module<Tensor, Tensor> Model, long Expected, Tensor Input, long[] Output) Make(string name)
    {
        torch.manual_seed(1);
        return name switch
        {
            nameof(TinyLm) => (new TinyLm(), TinyLm.ParameterCount, randint(0, 11, [3, 20]), [3, 20, 11]),
            nameof(TinyWideFfnLm) => (new TinyWideFfnLm(), TinyWideFfnLm.ParameterCount, randint(0, 11, [3, 20]), [3, 20, 11]),
            nameof(TinyAttentionLm) => (new TinyAttentionLm(), TinyAttentionLm.ParameterCount, randint(0, 11, [3, 20]), [3, 20, 11]),
            nameof(TinyConvClassifier) => (new TinyConvClassifier(), TinyConvClassifier.ParameterCount, randn(3, 2, 6, 10), [3, 5]),
            _ => (new TinyGridSimple(), TinyGridSimple.ParameterCount, randn(3, 1, 8, 8), [3, 3]),
        };
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Forward_and_backward_run_and_the_parameter_count_is_torchsharps(string name)
    {
        var (model, expected, input, output) = Make(name);
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
        var y = model.forward(input);
        Assert.Equal(output, y.shape);
        y.square().sum().backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }

    [Fact]
    public void Stage_constants_add_up_to_the_model_count()
    {
        Assert.Equal(TinyLm.ParameterCount, TinyLm.EmbedParameterCount + TinyLm.BodyParameterCount + TinyLm.NormParameterCount + TinyLm.HeadParameterCount);
        Assert.Equal(11 * 8, TinyLm.EmbedParameterCount);
        Assert.Equal("[B, T] int64 token ids below 11, 1 ≤ T ≤ 32", TinyLm.InputShape);
        Assert.Equal("[B, T, 11] (logits)", TinyLm.OutputShape);
        Assert.Equal("[B, 5] (class logits)", TinyConvClassifier.OutputShape);
    }

    [Fact]
    public void State_dict_names_follow_the_stage_properties()
    {
        var names = new TinyLm().state_dict().Keys.ToList();
        Assert.Contains("embed.weight", names);
        Assert.Contains("body.blocks.0.mixer.pos_u", names);
        Assert.Contains("body.blocks.1.ffn.0.weight", names);
        Assert.Contains("norm.weight", names);
        Assert.Contains("head.bias", names);
        Assert.Contains("patches.projection.weight", new TinyConvClassifier().state_dict().Keys);
    }

    [Fact]
    public void Stages_are_reachable_through_their_properties()
    {
        var model = new TinyLm();
        Assert.Equal(2, model.Body.Count);
        Assert.IsType<SmallLocalMixer>(model.Body[0].Mixer);
        Assert.Equal(8, ((SmallLocalMixer)model.Body[0].Mixer).Dim);
    }

    [Fact]
    public void The_causal_model_ignores_later_tokens_bit_for_bit()
    {
        var (model, _, input, _) = Make(nameof(TinyLm));
        var before = model.forward(input);
        var changed = input.clone();
        changed.narrow(1, 10, 10).copy_(randint(0, 11, [3, 10]));
        TensorAssert.BitIdentical(before.narrow(1, 0, 10), model.forward(changed).narrow(1, 0, 10), "positions < 10");
    }

    [Fact]
    public void An_aft_conv_classifier_runs_on_larger_images_than_it_was_built_for()
    {
        var model = new TinyConvClassifier();
        foreach (var (h, w) in new[] { (4, 4), (8, 6), (16, 16) })
            Assert.Equal(new long[] { 2, 5 }, model.forward(randn(2, 2, h, w)).shape);
    }

    [Fact]
    public void Token_guards_name_the_model_and_the_problem()
    {
        var model = new TinyLm();
        var error = Assert.Throws<AftShapeException>(() => model.forward(randint(0, 11, [2, 33])));
        Assert.StartsWith("AftModel 'TinyLm': T = 33 exceeds maxLength 32.", error.Message);
        error = Assert.Throws<AftShapeException>(() => model.forward(tensor(new long[] { 1, 2, 11 }).unsqueeze(0)));
        Assert.Contains("token ids must lie in [0, 11), but they range over [1, 11].", error.Message);
        error = Assert.Throws<AftShapeException>(() => model.forward(randn(2, 5)));
        Assert.Contains("token ids must be integers, not Float32", error.Message);
    }

    [Fact]
    public void Deferred_patch_check_throws_with_its_diagnostic_id()
    {
        var error = Assert.Throws<AftShapeException>(() => new TinyConvClassifier().forward(randn(1, 2, 7, 8)));
        // The compile-time warning's ID and wording, naming the model once.
        Assert.StartsWith("AFT0401: AftModel 'TinyConvClassifier': Patches cuts images into 2×2 patches, so the image height and width must be " +
            "divisible by 2; the input's size is only known at run time, so forward checks it: 7×8 is not. Expected ", error.Message);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(error.Message, "AftModel 'TinyConvClassifier'"));
    }

    [Fact]
    public void A_channel_count_of_one_is_in_the_singular()
    {
        var error = Assert.Throws<AftShapeException>(() => new TinyConvClassifier().forward(randn(1, 1, 8, 8)));
        Assert.StartsWith("AftModel 'TinyConvClassifier': the image has 1 channel, but the model takes 2.", error.Message);
    }
}
