using AftDsl.Generators.Tests.Support;
using Xunit;

namespace AftDsl.Generators.Tests;

public sealed class ModelEmitterTests
{
    public const string Usings = """
        using AftDsl;
        using AftDsl.Modules;
        using TorchSharp.Modules;

        """;

    const string CausalTokenModel = Usings + """
        namespace Text;

        [AftLocal(maxLength: 1024, window: 32, Causal = true)] public partial class TextMixer;

        [AftModel(Causal = true)]
        [TokenInput(vocab: 256, maxLength: 1024)]
        public partial class CharLm
        {
            [Embedding(dim: 256)] public partial Embedding Embed { get; }
            [Blocks(depth: 4, mixer: typeof(TextMixer))] public partial BlockStack Body { get; }
            [FinalNorm] public partial LayerNorm Norm { get; }
            [Logits] public partial Linear Head { get; }
        }
        """;

    const string ConvClassifier = Usings + """
        namespace Vision;

        [AftConv(heads: 32, window: 7)] public partial class PatchMixer;

        [AftModel]
        [ImageInput(channels: 3)]
        public partial class Classifier
        {
            [PatchEmbedding(patch: 16, dim: 384)] public partial PatchEmbedding Patches { get; }
            [Blocks(depth: 12, mixer: typeof(PatchMixer), Ffn = 4)] public partial BlockStack Body { get; }
            [FinalNorm] public partial LayerNorm Norm { get; }
            [ClassifierHead(classes: 1000)] public partial ClassifierHead Head { get; }
        }
        """;

    const string AttentionBaseline = Usings + """
        namespace Vision;

        [MultiHeadAttention(heads: 6)] public partial class Attention;

        [AftModel]
        [ImageInput(channels: 3, Height = 224, Width = 224)]
        internal partial class Deit
        {
            [PatchEmbedding(patch: 16, dim: 384)] internal partial PatchEmbedding Patches { get; }
            [PositionEmbedding] internal partial PositionEmbedding Positions { get; }
            [Blocks(depth: 12, mixer: typeof(Attention))] internal partial BlockStack Body { get; }
            [FinalNorm] internal partial LayerNorm Norm { get; }
            [ClassifierHead(classes: 1000)] internal partial ClassifierHead Head { get; }
        }
        """;

    [Fact]
    public void Causal_token_model() => Snapshot.VerifyGenerated(GeneratorHarness.Run(CausalTokenModel).Result);

    [Fact]
    public void Conv_classifier_of_any_image_size() => Snapshot.VerifyGenerated(GeneratorHarness.Run(ConvClassifier).Result);

    [Fact]
    public void Attention_baseline_over_a_fixed_grid() => Snapshot.VerifyGenerated(GeneratorHarness.Run(AttentionBaseline).Result);

    [Theory]
    [InlineData(CausalTokenModel)]
    [InlineData(AttentionBaseline)]
    public void Generated_models_compile_against_torchsharp_without_warnings(string source)
    {
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Equal(2, result.GeneratedTrees.Length);
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
    }

    [Fact]
    public void A_free_image_size_compiles_with_the_run_time_check_as_a_warning()
    {
        var (result, output) = GeneratorHarness.Run(ConvClassifier);
        var warning = Assert.Single(GeneratorHarness.EffectiveDiagnostics(result, output));
        Assert.Equal("AFT0401", warning.Id);
        Assert.Contains("so forward checks it", warning.GetMessage());
    }

    [Fact]
    public void Remarks_count_one_block_and_one_class_in_the_singular()
    {
        var (result, _) = GeneratorHarness.Run(Usings + """
            [AftSimple(Causal = true)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 16, maxLength: 8)]
            public partial class One
            {
                [Embedding(dim: 8)] public partial Embedding Embed { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Body { get; }
                [Logits(Classes = 1)] public partial Linear Head { get; }
            }
            """);
        var source = result.GeneratedTrees.Single(t => t.FilePath.Contains("One", StringComparison.Ordinal)).ToString();
        Assert.Contains("1 pre-LN block of M", source);
        Assert.Contains("logits over 1 class per position", source);
        Assert.DoesNotContain("1 pre-LN blocks", source);
    }

    [Fact]
    public void An_ffn_width_in_units_is_passed_by_name_counted_and_described()
    {
        var (result, output) = GeneratorHarness.Run(Usings + """
            [AftSimple(Causal = true)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 16, maxLength: 8)]
            public partial class Wide
            {
                [Embedding(dim: 8)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, mixer: typeof(M), FfnWidth = 13)] public partial BlockStack Body { get; }
                [Logits] public partial Linear Head { get; }
            }
            """);
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
        var source = result.GeneratedTrees.Single(t => t.FilePath.Contains("Wide", StringComparison.Ordinal)).ToString();
        Assert.Contains("new global::AftDsl.Modules.PreNormBlock(new global::M(8), 8, ffnWidth: 13)", source);
        Assert.Contains("2 pre-LN blocks of M and a 13-wide GELU FFN", source);
        // Per block: two norms (32), AFT-simple's four 8 × 8 projections (288), FFN 8·13 + 13 + 13·8 + 8 (229).
        Assert.Contains("BodyParameterCount = 1098;", source);
    }

    [Fact]
    public void Stage_properties_are_documented_with_shapes_parameters_and_state_dict_prefix()
    {
        var source = GeneratorHarness.Run(CausalTokenModel).Result.GeneratedTrees.Single(t => t.FilePath.Contains("CharLm", StringComparison.Ordinal)).ToString();
        Assert.Contains("""
                /// <summary>
                /// Stage 1 of 4, token embedding to width 256: <c>[B, T] (token ids)</c> → <c>[B, T, 256]</c>; 65,536 parameters;
                /// state-dict prefix <c>embed.</c>.
                /// </summary>
                public partial global::TorchSharp.Modules.Embedding Embed { get => this.embed; }
            """.Replace("\r\n", "\n"), source);
        // The class remarks list every stage with the shape it takes and produces.
        Assert.Contains("/// <item><c>Norm</c> (<c>norm.</c>): <c>[B, T, 256]</c> → <c>[B, T, 256]</c>; final LayerNorm; 512 parameters.</item>", source);
        Assert.All(source.Split('\n').Where(l => l.TrimStart().StartsWith("///", StringComparison.Ordinal) && l.Contains("Stage", StringComparison.Ordinal)),
            l => Assert.True(l.Length <= 120, l));
    }

    [Fact]
    public void Stage_names_that_are_keywords_or_forward_locals_compile()
    {
        // Fields are the snake_case names: "base" is a keyword, "x" and "input" are names forward uses.
        var (result, output) = GeneratorHarness.Run(Usings + """
            [AftSimple(Causal = true)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 16, maxLength: 8)]
            public partial class Odd
            {
                [Embedding(dim: 8)] public partial Embedding Input { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Base { get; }
                [FinalNorm] public partial LayerNorm X { get; }
                [Logits] public partial Linear Scope { get; }
            }
            """);
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
    }

    [Fact]
    public void Logits_over_a_grid_keep_the_grid_in_the_output_shape()
    {
        var generated = GeneratorHarness.Run(Usings + """
            [AftConv(heads: 2, window: 3)] public partial class C;
            [AftModel, ImageInput(channels: 1, Height = 8, Width = 8)]
            public partial class Segmenter
            {
                [PatchEmbedding(patch: 2, dim: 8)] public partial PatchEmbedding P { get; }
                [Blocks(depth: 1, mixer: typeof(C))] public partial BlockStack B { get; }
                [Logits(Classes = 3)] public partial Linear H { get; }
            }
            """).Result.GeneratedTrees.Single(t => t.FilePath.EndsWith("Segmenter.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("public const string OutputShape = \"[B, 4, 4, 3] (logits)\";", generated);
    }

    [Fact]
    public void Runtime_guards_can_be_turned_off_with_an_msbuild_property()
    {
        var with = GeneratorHarness.Run(CausalTokenModel).Result.GeneratedTrees.Select(t => t.ToString()).ToList();
        var without = GeneratorHarness.Run(GeneratorHarness.Options(("build_property.AftDslRuntimeGuards", "false")), CausalTokenModel).Result
            .GeneratedTrees.Select(t => t.ToString()).ToList();
        // The per-call checks in forward go; a constructor still checks the width it is given (once, and cheap).
        static string Forward(string text) => text[text.IndexOf("public override", StringComparison.Ordinal)..];
        Assert.All(with, text => Assert.Contains("Guard.", Forward(text)));
        Assert.All(without, text => Assert.DoesNotContain("Guard.", Forward(text)));
    }
}
