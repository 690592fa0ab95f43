using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>One test per model diagnostic: the broken source, the expected ID, the exact span, the message.</summary>
public sealed class ModelDiagnosticTests
{
    static Diagnostic Expect(string marked, string id)
    {
        var markup = Markup.Parse(ModelEmitterTests.Usings + marked);
        var (result, output) = GeneratorHarness.Run(markup.Source);
        var found = result.Diagnostics.Where(d => d.Id == id).ToList();
        var diagnostic = Assert.Single(found);
        Assert.Equal(markup.Span, diagnostic.Location.SourceSpan);
        Assert.DoesNotContain(result.Diagnostics, d => d.Id.StartsWith("AFT", StringComparison.Ordinal) && d.Id != id && d.Severity == DiagnosticSeverity.Error);
        // No cascade: a model or layer in error still gets a part (a skeleton), so the compiler adds no error of its own.
        var compiler = GeneratorHarness.EffectiveDiagnostics(result, output).Where(d => !d.Id.StartsWith("AFT", StringComparison.Ordinal)).ToList();
        Assert.True(compiler.Count == 0, "compiler diagnostics besides " + id + ":\n" + string.Join("\n", compiler));
        return diagnostic;
    }

    // The source text under each additional location: the second declaration a diagnostic involves.
    static string[] Also(Diagnostic diagnostic) =>
        [.. diagnostic.AdditionalLocations.Select(l => l.SourceTree!.GetText().ToString(l.SourceSpan))];

    const string Mixer = "[AftLocal(maxLength: 256, window: 8, Causal = true)] public partial class M;\n";

    [Fact]
    public void AFT0301_model_without_input()
    {
        Expect("""
            [[|AftModel|]] public partial class X { [Embedding(dim: 8)] public partial Embedding E { get; } }
            """, "AFT0301");
    }

    [Fact]
    public void AFT0319_ffn_width_written_both_as_a_multiple_and_in_units()
    {
        var d = Expect("""
            [AftSimple] public partial class M;
            [AftModel, TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 8)] public partial Embedding Embed { get; }
                [Blocks(depth: 1, mixer: typeof(M), Ffn = 4, [|FfnWidth = 30|])] public partial BlockStack Body { get; }
            }
            """, "AFT0319");
        Assert.Equal("AftModel 'X': Body sets its FFN width twice, Ffn = 4 (a multiple of the model width) and FfnWidth = 30 (units); write one of them", d.GetMessage());
    }

    [Fact]
    public void AFT0318_decoding_asked_of_a_model_that_is_not_causal()
    {
        var d = Expect("""
            [AftSimple] public partial class M;
            [AftModel([|Decoding = true|]), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 8)] public partial Embedding Embed { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Body { get; }
            }
            """, "AFT0318");
        Assert.StartsWith("AftModel 'X' asks for Decoding, but it is not causal", d.GetMessage());
    }

    [Fact]
    public void Decoding_on_a_causal_model_is_no_diagnostic()
    {
        var (result, _) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            [AftSimple(Causal = true)] public partial class M;
            [AftModel(Causal = true, Decoding = true), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 8)] public partial Embedding Embed { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Body { get; }
            }
            """);
        Assert.DoesNotContain(result.Diagnostics, d => d.Id.StartsWith("AFT", StringComparison.Ordinal));
    }

    [Fact]
    public void AFT0302_embedding_of_images()
    {
        var d = Expect("""
            [AftModel, ImageInput(channels: 3)]
            public partial class X { [[|Embedding(dim: 8)|]] public partial Embedding E { get; } }
            """, "AFT0302");
        Assert.Equal("AftModel 'X': E expects token ids [B, T], but [ImageInput(channels: 3)] produces [B, 3, H, W] (images); use [PatchEmbedding] for images, or declare [TokenInput]", d.GetMessage());
    }

    [Fact]
    public void AFT0303_width_disagrees_at_an_edge()
    {
        var d = Expect("""
            [AftLocal(maxLength: 256, window: 8, Dim = 512, Causal = true)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 256)] public partial Embedding Embed { get; }
                [Blocks(depth: 4, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0303");
        Assert.Equal("AftModel 'X': Body[0..3].Mixer (M) expects [B, T, 512]; Embed produces [B, T, 256]. Leave out the Dim of M so that the model binds it, or declare it with Dim = 256", d.GetMessage());
        Assert.Equal(["Dim = 512", "dim: 256"], Also(d));                   // the mixer's Dim, and the stage that fixed the width
    }

    [Fact]
    public void AFT0304_a_stage_bound_below_the_input_length()
    {
        var d = Expect(Mixer + """
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 1024)]
            public partial class X
            {
                [Embedding(dim: 64)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0304");
        Assert.Equal("AftModel 'X': Body[0..1].Mixer (M) accepts T ≤ 256 (its maxLength), but the model's input allows T ≤ 1024; declare M with maxLength ≥ 1024, or shorten the input", d.GetMessage());
        Assert.Equal(["maxLength: 256"], Also(d));                            // the mixer's own maxLength
    }

    [Fact]
    public void AFT0305_non_causal_mixer_in_a_causal_model()
    {
        var d = Expect("""
            [AftSimple] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 64)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0305");
        Assert.Contains("a leak of the future; declare M with Causal = true", d.GetMessage());
        Assert.Equal(["AftSimple"], Also(d));                                 // Causal is not written: the mixer's attribute
    }

    [Fact]
    public void AFT0306_grid_mixer_fed_a_sequence()
    {
        Expect("""
            [AftConv(heads: 4, window: 3)] public partial class M;
            [AftModel, TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 64)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0306");
    }

    [Fact]
    public void AFT0307_mixer_that_is_not_a_layer()
    {
        var d = Expect("""
            public class NotALayer;
            [AftModel, TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 64)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, [|mixer: typeof(NotALayer)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0307");
        // No possessive "'s" after a name, which reads badly after one ending in s ("Blocks's").
        Assert.StartsWith("AftModel 'X': the mixer 'NotALayer' of Body is not a layer;", d.GetMessage());
    }

    [Fact]
    public void AFT0308_stage_not_partial()
    {
        Expect("""
            [AftModel, TokenInput(vocab: 256, maxLength: 256)]
            public partial class X { [Embedding(dim: 64)] public Embedding [|Embed|] { get; } = null!; }
            """, "AFT0308");
    }

    [Fact]
    public void AFT0309_stage_of_the_wrong_type()
    {
        var d = Expect("""
            [AftModel, TokenInput(vocab: 256, maxLength: 256)]
            public partial class X { [Embedding(dim: 64)] public partial [|Linear|] Embed { get; } }
            """, "AFT0309");
        Assert.Equal("AftModel 'X': Embed is a [Embedding] stage, so its type must be TorchSharp.Modules.Embedding, not TorchSharp.Modules.Linear", d.GetMessage());
    }

    [Fact]
    public void AFT0310_patch_not_dividing_a_fixed_image()
    {
        var d = Expect("""
            [AftModel, ImageInput(channels: 1, Height = 28, Width = 28)]
            public partial class X { [PatchEmbedding([|patch: 3|], dim: 64)] public partial PatchEmbedding Patches { get; } }
            """, "AFT0310");
        Assert.Equal("AftModel 'X': the patch 3 of Patches does not divide the image height and width 28; use a patch that divides 28 (2, 4, 7, 14), or resize the images",
            d.GetMessage());
    }

    [Fact]
    public void AFT0311_positions_on_a_free_grid()
    {
        Expect("""
            [AftModel, ImageInput(channels: 1)]
            public partial class X
            {
                [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
                [[|PositionEmbedding|]] public partial PositionEmbedding Positions { get; }
            }
            """, "AFT0311");
    }

    [Fact]
    public void AFT0312_logits_without_a_class_count()
    {
        Expect("""
            [AftModel, ImageInput(channels: 1, Height = 28, Width = 28)]
            public partial class X
            {
                [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
                [[|Logits|]] public partial Linear Head { get; }
            }
            """, "AFT0312");
    }

    [Fact]
    public void AFT0313_model_without_stages()
    {
        Expect("""
            [AftModel, TokenInput(vocab: 256, maxLength: 256)] public partial class [|X|];
            """, "AFT0313");
    }

    [Fact]
    public void AFT0003_a_model_class_that_is_also_a_layer()
    {
        var d = Expect("""
            [AftFull(maxLength: 256, Dim = 8)]
            [[|AftModel|], TokenInput(vocab: 256, maxLength: 256)]
            public partial class X { [Embedding(dim: 8)] public partial Embedding E { get; } }
            """, "AFT0003");
        Assert.Contains("'X' is already declared as AftFull by an earlier attribute; a class is one layer or one model", d.GetMessage());
    }

    [Fact]
    public void A_mixer_compiled_into_a_referenced_assembly_is_read_from_its_metadata()
    {
        // The mixer lives in a library the user's project references as a built assembly, as csc sees it.
        var library = GeneratorHarness.Compilation(ModelEmitterTests.Usings + "namespace Lib; [AftLocal(maxLength: 64, window: 8, Causal = true, FactorRank = 16)] public partial class SharedMixer;")
            .WithAssemblyName("SharedMixers");
        using var image = new MemoryStream();
        Assert.True(library.Emit(image).Success);
        var user = GeneratorHarness.Compilation(ModelEmitterTests.Usings + """
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 8)] public partial Embedding E { get; }
                [Blocks(depth: 1, mixer: typeof(Lib.SharedMixer))] public partial BlockStack B { get; }
            }
            """).AddReferences(MetadataReference.CreateFromImage(image.ToArray()));
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(user, out var output, out _);

        var diagnostic = Assert.Single(GeneratorHarness.AnalyzerDiagnostics(output), d => d.Id == "AFT0304");  // its bound, 64, is read from the assembly
        Assert.Contains("B[0].Mixer (SharedMixer) accepts T ≤ 64 (its maxLength)", diagnostic.GetMessage());
    }

    [Fact]
    public void A_mixer_in_error_leaves_the_model_a_skeleton_instead_of_half_built()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            [AftLocal(maxLength: 256, window: 0, Causal = true)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 8)] public partial Embedding E { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack B { get; }
            }
            """);
        Assert.Single(result.Diagnostics, d => d.Id == "AFT0101");
        var model = Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("X.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Contains("Not generated", model);
        Assert.Contains("public partial global::AftDsl.Modules.BlockStack B { get => throw", GeneratedText.Flat(model));
        Assert.Equal(["AFT0101"], GeneratorHarness.EffectiveDiagnostics(result, output).Select(d => d.Id));
    }

    [Fact]
    public void AFT0314_stage_named_like_a_generated_member()
    {
        var d = Expect("""
            [AftModel, TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 8)] public partial Embedding E { get; }
                [FinalNorm] public partial LayerNorm [|Dim|] { get; }
            }
            """, "AFT0314");
        Assert.Equal("AftModel 'X': a stage cannot be named Dim, the name of the generated member Dim; rename the property (for example DimStage)", d.GetMessage());
    }

    [Fact]
    public void AFT0204_image_input_with_only_one_side_fixed()
    {
        var d = Expect("""
            [AftModel, ImageInput(channels: 1, [|Height = 28|])]
            public partial class X { [PatchEmbedding(patch: 2, dim: 8)] public partial PatchEmbedding P { get; } }
            """, "AFT0204");
        Assert.Contains("Height is set but Width is not", d.GetMessage());
    }

    [Fact]
    public void AFT0310_on_a_prime_side_says_that_only_1_and_the_side_divide_it()
    {
        var d = Expect("""
            [AftModel, ImageInput(channels: 1, Height = 29, Width = 29)]
            public partial class X { [PatchEmbedding([|patch: 2|], dim: 64)] public partial PatchEmbedding Patches { get; } }
            """, "AFT0310");
        Assert.Contains("use a patch that divides 29 (only 1 and 29)", d.GetMessage());
    }

    [Fact]
    public void AFT0401_free_image_size_is_checked_at_run_time_and_is_a_warning()
    {
        var d = Expect("""
            [AftConv(heads: 4, window: 3)] public partial class M;
            [AftModel, ImageInput(channels: 1)]
            public partial class X
            {
                [PatchEmbedding([|patch: 2|], dim: 64)] public partial PatchEmbedding Patches { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Body { get; }
            }
            """, "AFT0401");
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        // The run-time guard throws this message, after its ID: the model is named once, by the message itself.
        Assert.Equal("AftModel 'X': Patches cuts images into 2×2 patches, so the image height and width must be divisible by 2; " +
            "the input's size is only known at run time, so forward checks it", d.GetMessage());
    }

    [Fact]
    public void AFT0402_sequence_mixer_over_a_free_grid_is_checked_at_run_time()
    {
        var d = Expect("""
            [AftLocal(maxLength: 256, window: 8)] public partial class M;
            [AftModel, ImageInput(channels: 1)]
            public partial class X
            {
                [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
                [Blocks(depth: 1, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0402");
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.StartsWith("AftModel 'X': Body[0].Mixer (M) accepts at most 256 positions", d.GetMessage());
    }

    [Fact]
    public void AFT0305_points_also_at_the_mixers_written_Causal()
    {
        var d = Expect("""
            [AftSimple(Causal = false)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 256)]
            public partial class X
            {
                [Embedding(dim: 64)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0305");
        Assert.Equal(["Causal = false"], Also(d));
    }

    [Fact]
    public void AFT0201_heads_not_dividing_the_width_the_model_binds()
    {
        var d = Expect("""
            [AftConv(heads: 6, window: 3)] public partial class M;
            [AftModel, ImageInput(channels: 1)]
            public partial class X
            {
                [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
                [Blocks(depth: 1, [|mixer: typeof(M)|])] public partial BlockStack Body { get; }
            }
            """, "AFT0201");
        Assert.StartsWith("AftModel 'X': Body[0].Mixer (M), whose width 64 is fixed by Patches: heads (6) must divide dim (64): 64 / 6 = 10.667.", d.GetMessage());
        Assert.Equal(["heads: 6", "dim: 64"], Also(d));
    }
}
