using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// Mistakes that used to do nothing or to end in compiler errors inside generated code: each is now an AFT
/// diagnostic on the user's code, with no compiler error beside it.
/// </summary>
public sealed class SilentMistakeTests
{
    static Diagnostic Expect(string marked, string id)
    {
        var markup = Markup.Parse(ModelEmitterTests.Usings + marked);
        var (result, output) = GeneratorHarness.Run(markup.Source);
        var effective = GeneratorHarness.EffectiveDiagnostics(result, output);
        var diagnostic = Assert.Single(effective, d => d.Id == id);
        Assert.Equal(markup.Span, diagnostic.Location.SourceSpan);
        // Errors anywhere, and any warning in generated code (a warning the compiler has about the user's own
        // code, such as null for a non-nullable Type, is not a cascade).
        var others = effective.Where(d => d.Id != id && (d.Severity == DiagnosticSeverity.Error || d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)).ToList();
        Assert.True(others.Count == 0, $"besides {id}:\n" + string.Join("\n", others));
        return diagnostic;
    }

    [Fact]
    public void AFT0006_a_file_local_layer()
    {
        var d = Expect("[AftSimple(Dim = 8)] file partial class [|Mixer|];", "AFT0006");
        Assert.Contains("'Mixer' is a file-local type", d.GetMessage());
    }

    [Fact]
    public void AFT0006_a_layer_nested_in_a_file_local_type()
    {
        Expect("file partial class [|Outer|] { [AftSimple(Dim = 8)] public partial class Mixer; }", "AFT0006");
    }

    [Fact]
    public void AFT0007_a_record_with_a_layer_attribute_even_with_invalid_arguments()
    {
        var d = Expect("[AftFull(maxLength: -1)] public partial record [|Mixer|];", "AFT0007");
        Assert.Equal("AftFull 'Mixer': 'Mixer' is a record, but a layer or model derives from torch.nn.Module<Tensor, Tensor>, which a record cannot; declare it as 'partial class Mixer'",
            d.GetMessage());
    }

    [Fact]
    public void AFT0007_a_record_model()
    {
        Expect("[AftModel, TokenInput(vocab: 8, maxLength: 8)] public partial record [|Lm|];", "AFT0007");
    }

    [Fact]
    public void AFT0008_an_abstract_mixer()
    {
        Expect("[AftSimple] public abstract partial class [|Mixer|];", "AFT0008");
    }

    [Fact]
    public void AFT0009_a_user_member_named_like_a_generated_one()
    {
        var d = Expect("[AftFull(maxLength: 64)] public partial class Mixer { public int [|Dim|] => 3; }", "AFT0009");
        Assert.Equal("AftFull 'Mixer': 'Dim' clashes with the generated member Dim, which AftDsl generates; rename or remove yours", d.GetMessage());
    }

    [Fact]
    public void AFT0009_a_user_constructor_with_the_generated_ones_parameters()
    {
        Expect("[AftFull(maxLength: 64)] public partial class Mixer { public [|Mixer|](long width) : base(\"m\") { } }", "AFT0009");
    }

    [Fact]
    public void AFT0009_a_layer_named_like_its_nested_autograd_function()
    {
        var d = Expect("[AftSimple(Dim = 8)] public partial class [|MixingFunction|];", "AFT0009");
        Assert.Contains("a class cannot contain a member of its own name", d.GetMessage());
    }

    [Fact]
    public void AFT0009_a_model_member_named_like_a_stage_constant()
    {
        Expect("""
            [AftModel, TokenInput(vocab: 8, maxLength: 8)]
            public partial class Lm
            {
                [Embedding(dim: 4)] public partial Embedding Embed { get; }
                public static long [|EmbedParameterCount|] => 0;
            }
            """, "AFT0009");
    }

    [Fact]
    public void AFT0009_a_causal_layer_member_named_like_a_decoding_member()
    {
        var d = Expect("[AftSimple(Dim = 8, Causal = true)] public partial class Mixer { public void [|Step|]() { } }", "AFT0009");
        Assert.Contains("the generated member Step", d.GetMessage());
    }

    [Fact]
    public void A_non_causal_layer_may_have_its_own_Step()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + "[AftSimple(Dim = 8)] public partial class Mixer { public void Step() { } }");
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
    }

    [Fact]
    public void AFT0009_a_causal_token_model_member_named_like_a_decoding_member()
    {
        Expect("""
            [AftSimple(Causal = true)] public partial class M;
            [AftModel(Causal = true), TokenInput(vocab: 8, maxLength: 8)]
            public partial class Lm
            {
                [Embedding(dim: 8)] public partial Embedding Embed { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack Body { get; }
                [Logits] public partial Linear Head { get; }
                public int [|MaxDecodingLength|] => 8;
            }
            """, "AFT0009");
    }

    [Fact]
    public void AFT0004_a_base_class_given_in_another_partial_part()
    {
        Expect("""
            public class Base;
            [AftSimple(Dim = 8)] public partial class Mixer;
            public partial class Mixer : [|Base|];
            """, "AFT0004");
    }

    [Fact]
    public void An_interface_on_a_layer_is_no_base_class()
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + "public interface IMarked; [AftSimple(Dim = 8)] public partial class Mixer : IMarked;");
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
    }

    [Fact]
    public void AFT0315_two_stage_attributes_on_one_property()
    {
        var d = Expect("""
            [AftModel, TokenInput(vocab: 8, maxLength: 8)]
            public partial class Lm
            {
                [Embedding(dim: 4)] public partial Embedding Embed { get; }
                [FinalNorm] [[|Logits|]] public partial LayerNorm Norm { get; }
            }
            """, "AFT0315");
        Assert.Contains("Norm carries [FinalNorm] and [Logits], but a property is one stage", d.GetMessage());
    }

    [Theory]
    [InlineData("typeof(int[])")]
    [InlineData("null")]
    public void AFT0307_a_mixer_that_is_not_a_class(string mixer)
    {
        var d = Expect($$"""
            [AftModel, TokenInput(vocab: 8, maxLength: 8)]
            public partial class Lm
            {
                [Embedding(dim: 4)] public partial Embedding Embed { get; }
                [Blocks(depth: 1, [|mixer: {{mixer}}|])] public partial BlockStack Body { get; }
            }
            """, "AFT0307");
        Assert.Contains($"the mixer '{mixer}' of Body is not a layer", d.GetMessage());
    }

    [Fact]
    public void AFT0316_a_static_stage()
    {
        Expect("""
            [AftModel, TokenInput(vocab: 8, maxLength: 8)]
            public partial class Lm { [Embedding(dim: 4)] public static partial Embedding [|Embed|] { get; } }
            """, "AFT0316");
    }

    [Theory]
    [InlineData("set")]
    [InlineData("init")]
    public void AFT0317_a_stage_with_a_setter(string accessor)
    {
        Expect($$"""
            [AftModel, TokenInput(vocab: 8, maxLength: 8)]
            public partial class Lm { [Embedding(dim: 4)] public partial Embedding Embed { get; [|{{accessor}};|] } }
            """, "AFT0317");
    }
}
