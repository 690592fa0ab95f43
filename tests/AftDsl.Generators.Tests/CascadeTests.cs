using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// No cascades: a layer or model declared with an error still gets a generated part (a skeleton), so that the
/// code using it compiles and the build shows only the AFT diagnostics, and its forward throws naming the first one.
/// </summary>
public sealed class CascadeTests
{
    // Every kind of mistake that leaves the class able to take a part, each used the way a user's code uses a valid one.
    const string Broken = ModelEmitterTests.Usings + """
        [AftConv(heads: 32, window: 7, Dim = 380)] public partial class Bad;
        [AftFull(maxLength: 0)] public partial class Empty;
        [AftLocal(maxLength: 64, window: 100, Causal = true)] public partial class TooWide;
        [MultiHeadAttention(heads: 0, Dim = 8)] public partial class NoHeads;
        [AftSimple(Dim = 64)] public partial class Wide;
        [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 64)]
        public partial class Lm
        {
            [Embedding(dim: 32)] public partial Embedding Embed { get; }
            [Blocks(depth: 2, mixer: typeof(Wide))] public partial BlockStack Body { get; }
            [FinalNorm] public partial LayerNorm Norm { get; }
            [Logits] public partial Linear Head { get; }
        }
        [AftModel, ImageInput(channels: 3, Height = 30, Width = 30)]
        public partial class Classifier
        {
            [PatchEmbedding(patch: 4, dim: 16)] internal partial PatchEmbedding Patches { get; }
            [Blocks(depth: 1, mixer: typeof(TooWide))] internal partial BlockStack Body { get; }
            [ClassifierHead(classes: 10)] internal partial ClassifierHead Head { get; }
        }

        public static class Uses
        {
            public static long Sizes() => Bad.Heads + Bad.Window + Bad.Dim + Bad.ParameterCount + Empty.MaxLength + Empty.FactorRank
                + TooWide.Window + NoHeads.Heads + Lm.ParameterCount + Lm.EmbedParameterCount + Lm.Vocab + Lm.MaxLength + Classifier.Channels;
            public static string Names() => Bad.LayerName + Lm.ModelName + Lm.InputShape + Classifier.OutputShape;
            public static TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>[] Modules() =>
                [new Bad(), new Empty(16), new TooWide(8), new NoHeads(), new Lm(), new Classifier()];
            public static object[] Stages(Lm lm, Classifier c) => [lm.Embed, lm.Body, lm.Norm, lm.Head, c.Patches, c.Body, c.Head];
            public static long Width(Empty e) => e.Dim + e.HiddenDim;
        }
        """;

    [Fact]
    public void A_file_of_broken_declarations_and_their_uses_shows_only_AFT_diagnostics()
    {
        var (result, output) = GeneratorHarness.Run(Broken);
        var effective = GeneratorHarness.EffectiveDiagnostics(result, output);
        var compiler = effective.Where(d => !d.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.True(compiler.Count == 0, "compiler diagnostics beside the AFT ones:\n" + string.Join("\n", compiler));
        Assert.Equal(["AFT0101", "AFT0101", "AFT0103", "AFT0201", "AFT0303", "AFT0310"], effective.Select(d => d.Id).Order());
    }

    [Fact]
    public void Generic_and_abstract_declarations_get_skeletons_and_only_their_AFT_diagnostics()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            [AftSimple(Causal = true)] public partial class Mix;
            [AftSimple(Dim = 16)] public partial class GenericLayer<T>;
            [AftSimple(Dim = 16)] public abstract partial class AbstractLayer;
            [AftSimple(Dim = 16)] public abstract partial class G;
            public partial class Outer<TKey, TValue>
            {
                [AftSimple(Dim = 16)] public partial class Inner;
            }
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 64)]
            public partial class GenericModel<T> where T : class
            {
                [Embedding(dim: 32)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, mixer: typeof(Mix))] public partial BlockStack Body { get; }
                [Logits] public partial Linear Head { get; }
            }
            [AftSimple(Dim = 16)] public partial class G<T>;
            public static class Uses
            {
                public static long Sizes() => GenericLayer<int>.Dim + AbstractLayer.Dim + Outer<int, string>.Inner.Dim
                    + GenericModel<string>.ParameterCount + G<int>.Dim;
                public static Linear Head(GenericModel<string> model) => model.Head;
            }
            """);
        var effective = GeneratorHarness.EffectiveDiagnostics(result, output);
        var compiler = effective.Where(d => !d.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.True(compiler.Count == 0, "compiler diagnostics beside the AFT ones:\n" + string.Join("\n", compiler));
        Assert.Equal(["AFT0002", "AFT0002", "AFT0002", "AFT0002", "AFT0008", "AFT0008"], effective.Select(d => d.Id).Order());
    }

    [Fact]
    public void Static_declarations_get_skeletons_of_constants_and_stages_and_only_their_AFT_diagnostics()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            [AftSimple(Causal = true)] public partial class Mix;
            [AftSimple(Dim = 16)] public static partial class StaticLayer;
            [AftFull(maxLength: 64)] public static partial class StaticWithoutDim;
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 64)]
            public static partial class StaticModel
            {
                [Embedding(dim: 32)] public static partial Embedding Embed { get; }
                [Blocks(depth: 2, mixer: typeof(Mix))] public static partial BlockStack Body { get; }
                [Logits] public static partial Linear Head { get; }
            }
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 64)]
            public static partial class StaticModelOfInstanceStages
            {
                [Embedding(dim: 32)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, mixer: typeof(Mix))] public partial BlockStack Body { get; }
                [Logits] public partial Linear Head { get; }
            }
            public static class Uses
            {
                public static long Sizes() => StaticLayer.Dim + StaticLayer.ParameterCount + StaticWithoutDim.MaxLength
                    + StaticWithoutDim.FactorRank + StaticModel.ParameterCount + StaticModel.EmbedParameterCount + StaticModel.Vocab
                    + StaticModelOfInstanceStages.MaxLength;
                public static string Names() => StaticLayer.LayerName + StaticModel.ModelName + StaticModelOfInstanceStages.InputShape;
                public static object[] Stages() => [StaticModel.Embed, StaticModel.Body, StaticModel.Head];
            }
            """);
        var effective = GeneratorHarness.EffectiveDiagnostics(result, output);
        // No CS9248 (a stage without its part), no CS0117 (a use of a missing member), nothing in generated code. What
        // stays is the compiler's own CS0708 on each instance stage of a static class: its check of the same 'static',
        // on the user's declaration, which no generated part can remove.
        var compiler = effective.Where(d => !d.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.All(compiler, d => Assert.Equal("CS0708", d.Id));
        Assert.Equal(["Body", "Embed", "Head"], compiler.Select(d => d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)).Order());
        Assert.All(compiler, d => Assert.Equal("File0.cs", d.Location.SourceTree!.FilePath));
        Assert.Equal(["AFT0005", "AFT0005", "AFT0005", "AFT0005", "AFT0316", "AFT0316", "AFT0316"],
            effective.Where(d => d.Id.StartsWith("AFT", StringComparison.Ordinal)).Select(d => d.Id).Order());
        var layer = GeneratedText.Flat(Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("StaticLayer.g.cs", StringComparison.Ordinal)).ToString());
        Assert.Contains("partial class StaticLayer {", layer);
        Assert.DoesNotContain("forward", layer);
    }

    [Fact]
    public void Declarations_with_a_base_class_of_their_own_get_skeletons_without_one_and_only_AFT0004()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            public class Base;
            public abstract class NeedsAName(string name) { public string Name => name; }
            [AftSimple(Causal = true)] public partial class Mix;
            [AftSimple(Dim = 16)] public partial class WithBase : Base;
            [AftFull(maxLength: 64)] public partial class WithoutDim : NeedsAName { public WithoutDim() : base("mine") { } }
            [AftLocal(maxLength: 64, window: 8, Dim = 16)] public partial class BaseInAnotherPart;
            public partial class BaseInAnotherPart : Base;
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 64)]
            public partial class Lm : Base
            {
                [Embedding(dim: 32)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, mixer: typeof(Mix))] public partial BlockStack Body { get; }
                [Logits] public partial Linear Head { get; }
            }
            public static class Uses
            {
                public static long Sizes(WithoutDim w) => WithBase.Dim + WithBase.ParameterCount + w.Dim + w.HiddenDim
                    + WithoutDim.FactorRank + BaseInAnotherPart.Window + Lm.ParameterCount + Lm.EmbedParameterCount;
                public static object[] Objects(Lm lm) => [new WithBase(), new WithoutDim(), new BaseInAnotherPart(), lm.Embed, lm.Body, lm.Head];
            }
            """);
        var effective = GeneratorHarness.EffectiveDiagnostics(result, output);
        var compiler = effective.Where(d => !d.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.True(compiler.Count == 0, "compiler diagnostics beside the AFT ones:\n" + string.Join("\n", compiler));
        Assert.Equal(["AFT0004", "AFT0004", "AFT0004", "AFT0004"], effective.Select(d => d.Id));
        var layer = GeneratedText.Flat(Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("WithBase.g.cs", StringComparison.Ordinal)).ToString());
        Assert.Contains("partial class WithBase {", layer);
        Assert.DoesNotContain("forward", layer);
    }

    [Fact]
    public void A_skeletons_forward_throws_naming_the_diagnostic()
    {
        var (result, _) = GeneratorHarness.Run(Broken);
        var generated = Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("Bad.g.cs", StringComparison.Ordinal)).ToString();
        var bad = GeneratedText.Flat(generated);
        Assert.Contains("Not generated: AftConv 'Bad' is declared with an error (AFT0201: AftConv 'Bad': heads (32) must divide dim (380)", bad);
        Assert.Contains("private const string AftDslNotGenerated = \"AftConv 'Bad' was not generated because of AFT0201: AftConv 'Bad': heads (32)", bad);
        Assert.Contains("public override global::TorchSharp.torch.Tensor forward(global::TorchSharp.torch.Tensor input) => " +
            "throw new global::System.InvalidOperationException(AftDslNotGenerated);", bad);
    }

    [Fact]
    public void A_class_that_cannot_take_a_part_gets_none()
    {
        // Not partial: a generated part would itself be an error (CS0260); the AFT diagnostic says what to do.
        var (result, output) = GeneratorHarness.Run("[AftDsl.AftFull(maxLength: 0)] public class Mixer;");
        Assert.Empty(result.GeneratedTrees);
        Assert.Equal(["AFT0001", "AFT0101"], GeneratorHarness.EffectiveDiagnostics(result, output).Select(d => d.Id).Order());
    }

    [Fact]
    public void A_skeleton_leaves_out_the_members_and_constructors_the_user_declared()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            [AftFull(maxLength: 0)]
            public partial class Mixer
            {
                public Mixer(long dim) : base("mine") { }
                public const long MaxLength = 7;
            }
            """);
        var compiler = GeneratorHarness.EffectiveDiagnostics(result, output).Where(d => d.Severity == DiagnosticSeverity.Error && !d.Id.StartsWith("AFT", StringComparison.Ordinal));
        Assert.Empty(compiler);
        Assert.DoesNotContain("MaxLength =", Assert.Single(result.GeneratedTrees).ToString());
    }

    [Fact]
    public void Skeletons_of_a_layer_and_a_model() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ModelEmitterTests.Usings + """
        namespace Broken;
        [AftLocal(maxLength: 64, window: 100)] public partial class Mixer;
        [AftModel, TokenInput(vocab: 256, maxLength: 64)]
        public partial class Lm
        {
            [Embedding(dim: 32)] public partial Embedding Embed { get; }
            [Blocks(depth: 2, mixer: typeof(Mixer))] internal partial BlockStack Body { get; }
            [Logits] public partial Linear Head { get; }
        }
        """).Result);
}
