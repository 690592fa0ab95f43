using AftDsl.Generators.Tests.Support;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>Every legal C# name compiles: '@'-escaped keywords, unicode, nested types; hint names stay valid.</summary>
public sealed class IdentifierTests
{
    static void CompilesCleanly(string source, int generated)
    {
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + source);
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        var problems = GeneratorHarness.EffectiveDiagnostics(result, output);
        Assert.True(problems.Length == 0, string.Join("\n", problems));
        Assert.Equal(generated, result.GeneratedTrees.Length);
    }

    [Fact]
    public void Keyword_names_escaped_with_at_compile()
    {
        CompilesCleanly("""
            namespace @event.@namespace;
            [AftSimple(Causal = true)] public partial class @class;
            public partial class @if
            {
                [AftLocal(maxLength: 16, window: 4, Causal = true)] public partial class @for;
                [AftModel(Causal = true), TokenInput(vocab: 16, maxLength: 16)]
                public partial class @while
                {
                    [Embedding(dim: 8)] public partial Embedding @class { get; }
                    [Blocks(depth: 1, mixer: typeof(@for))] public partial BlockStack @for { get; }
                    [Blocks(depth: 1, mixer: typeof(@event.@namespace.@class))] public partial BlockStack @base { get; }
                    [Logits] public partial Linear @return { get; }
                }
            }
            """, generated: 3);
    }

    [Fact]
    public void Unicode_names_compile_and_get_distinct_valid_hint_names()
    {
        // "é" written precomposed and as e + combining acute accent: two different names, two files.
        CompilesCleanly("""
            namespace Überschicht.Ωmega;
            [AftSimple(Dim = 8)] public partial class Schicht_Ä;
            [AftSimple(Dim = 8)] public partial class Caf\u00e9;
            [AftSimple(Dim = 8)] public partial class Cafe\u0301;
            [AftModel, TokenInput(vocab: 16, maxLength: 16)]
            public partial class 模型
            {
                [Embedding(dim: 8)] public partial Embedding 嵌入 { get; }
                [Blocks(depth: 1, mixer: typeof(Schicht_Ä))] public partial BlockStack Größe { get; }
            }
            """, generated: 4);
    }

    [Fact]
    public void A_stage_whose_name_is_its_own_snake_case_keeps_it_as_its_state_dict_key()
    {
        // "body" and "嵌入" are their own snake_case: the field is renamed, its state-dict key is not.
        var (result, output) = GeneratorHarness.Run(ModelEmitterTests.Usings + """
            [AftSimple] public partial class M;
            [AftModel, TokenInput(vocab: 16, maxLength: 8)]
            public partial class Small
            {
                [Embedding(dim: 4)] public partial Embedding 嵌入 { get; }
                [Blocks(depth: 1, mixer: typeof(M))] public partial BlockStack body { get; }
            }
            """);
        Assert.Empty(GeneratorHarness.EffectiveDiagnostics(result, output));
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        var assembly = System.Reflection.Assembly.Load(image.ToArray());
        using var model = (TorchSharp.torch.nn.Module)Activator.CreateInstance(assembly.GetType("Small")!)!;
        var keys = model.state_dict().Keys.ToList();
        Assert.Contains("嵌入.weight", keys);
        Assert.Contains(keys, k => k.StartsWith("body.", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.StartsWith('_'));
    }
}
