using System.Collections;
using System.Reflection;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>The pipeline caches: an unrelated edit regenerates nothing, and no step output holds compiler objects.</summary>
public sealed class IncrementalTests
{
    static readonly string[] OurSteps = [.. AftLayerGenerator.Steps.All];

    const string Layers = """
        using AftDsl;
        namespace Samples;
        [AftFull(maxLength: 512, Dim = 64, Causal = true)] public partial class Good;
        [AftFull(maxLength: 512)] public partial class Unbound;
        [AftFull(maxLength: 0)] public partial class Broken;
        [AftLocal(maxLength: 512, window: 32)] public partial class Local;
        [AftLocal(maxLength: 512, window: 1000)] public partial class BrokenLocal;
        [AftSimple(Dim = 64)] public partial class Simple;
        [AftSimple(Dim = -1)] public partial class BrokenSimple;
        [AftConv(heads: 8, window: 3, Dim = 64)] public partial class Conv;
        [AftConv(heads: 8, window: 4)] public partial class BrokenConv;
        [MultiHeadAttention(heads: 4, Causal = true)] public partial class Attention;
        [MultiHeadAttention(heads: 0)] public partial class BrokenAttention;
        [AftModel(Causal = true)]
        [TokenInput(vocab: 256, maxLength: 512)]
        public partial class Lm
        {
            [Embedding(dim: 64)] public partial TorchSharp.Modules.Embedding Embed { get; }
            [Blocks(depth: 2, mixer: typeof(Attention))] public partial AftDsl.Modules.BlockStack Body { get; }
            [FinalNorm] public partial TorchSharp.Modules.LayerNorm Norm { get; }
            [Logits] public partial TorchSharp.Modules.Linear Head { get; }
        }
        [AftModel(Causal = true)]
        [TokenInput(vocab: 256, maxLength: 512)]
        public partial class LeakyLm
        {
            [Embedding(dim: 64)] public partial TorchSharp.Modules.Embedding Embed { get; }
            [Blocks(depth: 2, mixer: typeof(Local))] public partial AftDsl.Modules.BlockStack Body { get; }
        }
        """;

    static GeneratorRunResult RunTwice(Func<Compilation, Compilation> edit)
    {
        var compilation = GeneratorHarness.Compilation(Layers);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        return driver.RunGenerators(edit(compilation)).GetRunResult().Results.Single();
    }

    [Fact]
    public void Every_step_is_cached_or_unchanged_after_an_unrelated_edit()
    {
        var result = RunTwice(c => c.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Unrelated { int x; }", GeneratorHarness.ParseOptions)));
        foreach (var name in OurSteps)
        {
            Assert.True(result.TrackedSteps.ContainsKey(name), $"step {name} was not tracked");
            var reasons = result.TrackedSteps[name].SelectMany(step => step.Outputs).Select(output => output.Reason);
            Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
                $"step {name} ran again: {reason}"));
        }
        Assert.All(result.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void An_equivalent_compilation_reports_every_step_cached_or_unchanged()
    {
        var result = RunTwice(c => c.Clone());
        var reasons = OurSteps.SelectMany(name => result.TrackedSteps[name]).SelectMany(step => step.Outputs).Select(output => output.Reason).ToList();
        Assert.NotEmpty(reasons);
        Assert.All(reasons, reason => Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{reason}"));
    }

    [Fact]
    public void Reparsing_the_same_text_regenerates_no_source()
    {
        // The parse step runs again for a new syntax tree; the location-free models compare equal, so
        // nothing is emitted again.
        var result = RunTwice(c => c.RemoveAllSyntaxTrees().AddSyntaxTrees(CSharpSyntaxTree.ParseText(Layers, GeneratorHarness.ParseOptions, path: "File0.cs")));
        var models = OurSteps.Where(name => name.EndsWith(".Model")).SelectMany(name => result.TrackedSteps[name]).SelectMany(step => step.Outputs).ToList();
        Assert.Equal(13, models.Count);                                    // 6 valid layers, the valid model, and 6 skeletons of broken ones
        Assert.All(models, output => Assert.True(output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{output.Reason}"));
    }

    [Fact]
    public void Editing_a_mixer_in_another_file_regenerates_the_model_that_uses_it()
    {
        const string Model = """
            using AftDsl;
            [AftModel(Causal = true)]
            [TokenInput(vocab: 256, maxLength: 512)]
            public partial class Lm
            {
                [Embedding(dim: 64)] public partial TorchSharp.Modules.Embedding Embed { get; }
                [Blocks(depth: 1, mixer: typeof(Mixer))] public partial AftDsl.Modules.BlockStack Body { get; }
            }
            """;
        static string Mixer(int rank) => $"using AftDsl; [AftFull(maxLength: 512, Causal = true, FactorRank = {rank})] public partial class Mixer;";
        static string ModelSource(GeneratorDriver driver) =>
            driver.GetRunResult().Results.Single().GeneratedSources.Single(s => s.HintName == "Lm.g.cs").SourceText.ToString();

        var compilation = GeneratorHarness.Compilation(Mixer(64), Model);
        var driver = GeneratorHarness.Driver().RunGenerators(compilation);
        var before = ModelSource(driver);
        var mixerTree = compilation.SyntaxTrees.First();
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(mixerTree, CSharpSyntaxTree.ParseText(Mixer(32), GeneratorHarness.ParseOptions, path: mixerTree.FilePath)));

        Assert.NotEqual(before, ModelSource(driver));                       // the model's parameter count follows the mixer's factor rank
    }

    [Fact]
    public void No_step_output_holds_a_symbol_syntax_node_compilation_or_location()
    {
        var result = RunTwice(c => c);
        foreach (var name in OurSteps)
            foreach (var output in result.TrackedSteps[name].SelectMany(step => step.Outputs))
                AssertNoCompilerObjects(output.Value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
    }

    // No step carries a location: diagnostics, which need them, come from the analyzer, outside the pipeline.
    static void AssertNoCompilerObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null or string or DiagnosticDescriptor || value.GetType().IsPrimitive || value.GetType().IsEnum)
            return;
        Assert.False(value is Location, $"{path} holds a Location: a new syntax tree would make it unequal and rerun the emitter");
        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or SyntaxTree,
            $"{path} holds a {value.GetType().Name}, which keeps compilations alive and defeats caching");
        if (!value.GetType().IsValueType && !seen.Add(value))
            return;
        if (value is IEnumerable items)
        {
            var index = 0;
            foreach (var item in items)
                AssertNoCompilerObjects(item, $"{path}[{index++}]", seen);
            return;
        }
        foreach (var field in value.GetType().GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
            AssertNoCompilerObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
    }
}
