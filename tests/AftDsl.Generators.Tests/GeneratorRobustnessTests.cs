using AftDsl.Generators.Tests.Support;
using CsCheck;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>The generator never throws: random attribute arguments and mangled sources give diagnostics, never a crash.</summary>
public sealed class GeneratorRobustnessTests
{
    static readonly string[] Templates =
    [
        "[AftFull({0}, Dim = {1}, FactorRank = {2}, HiddenDim = {3}, Causal = {5})] public partial class L;",
        "[AftLocal({0}, {2}, Dim = {1}, FactorRank = {3}, Causal = {5})] public partial class L;",
        "[AftSimple(Dim = {1}, HiddenDim = {3}, Causal = {5})] public partial class L;",
        "[AftConv({2}, {3}, Dim = {1}, Layout = (AftConvLayout){4}, GridHeight = {2}, Causal = {5})] public partial class L;",
        "[MultiHeadAttention({2}, Dim = {1}, Causal = {5})] public partial class L;",
        // One class claimed twice: by a model and a layer, or by a model on two partial declarations.
        """
        [AftModel, AftFull({0}, Dim = {1})] public partial class L {{ [Embedding({3})] public partial Embedding E {{ get; }} }}
        [AftModel(Causal = {5}), TokenInput({1}, {0})] public partial class M {{ [Embedding({3})] public partial Embedding E {{ get; }} }}
        [AftSimple(Dim = {2})] public partial class M;
        """,
        """
        [AftLocal({0}, {2}, Causal = {5})] public partial class L;
        [AftConv({3}, {2}, Layout = (AftConvLayout){4})] public partial class C;
        [AftModel(Causal = {5}), TokenInput({1}, {0})]
        public partial class Model
        {{
            [Embedding({3})] public partial Embedding E {{ get; }}
            [PositionEmbedding] public partial PositionEmbedding P {{ get; }}
            [Blocks({4}, typeof(L), Ffn = {2})] public partial BlockStack B {{ get; }}
            [FinalNorm] public partial LayerNorm N {{ get; }}
            [Logits(Classes = {1})] public partial Linear H {{ get; }}
        }}
        """,
        """
        [AftConv({3}, {2})] public partial class C;
        [AftModel, ImageInput({4}, Height = {0}, Width = {1})]
        public partial class Model
        {{
            [PatchEmbedding({2}, {3})] public partial PatchEmbedding P {{ get; }}
            [Blocks({4}, typeof(C))] public partial BlockStack B {{ get; }}
            [ClassifierHead({1})] public partial ClassifierHead H {{ get; }}
        }}
        """,
    ];

    static readonly Gen<string> Sources =
        from template in Gen.Int[0, Templates.Length - 1]
        from a in Gen.Int[-2, 2100]
        from b in Gen.Int[-2, 600]
        from c in Gen.Int[-2, 300]
        from d in Gen.Int[-2, 64]
        from e in Gen.Int[-1, 3]
        from causal in Gen.Bool
        from cut in Gen.Int[0, 60]
        from at in Gen.Int[0, 1000]
        select Mangle(ModelEmitterTests.Usings + string.Format(System.Globalization.CultureInfo.InvariantCulture, Templates[template], a, b, c, d, e, causal ? "true" : "false"), cut, at);

    // Half the time delete a stretch of the source: unbalanced brackets, half attributes, missing types.
    static string Mangle(string source, int cut, int at) =>
        cut < 30 ? source : source.Remove(Math.Min(at, source.Length - 1), Math.Min(cut, source.Length - Math.Min(at, source.Length - 1)));

    [Fact]
    public void Ten_thousand_random_declarations_give_no_exception_and_no_generator_failure()
    {
        Sources.Sample(source =>
        {
            var (result, _) = GeneratorHarness.Run(source);
            var failure = result.Results.Single().Exception;
            if (failure is not null)
                throw new InvalidOperationException($"The generator threw on:\n{source}", failure);
            var crash = result.Diagnostics.FirstOrDefault(d => d.Id is "CS8785" or "AFT9001");
            if (crash is not null)
                throw new InvalidOperationException($"{crash.Id} on:\n{source}\n{crash.GetMessage()}");
        }, iter: 10_000);
    }

    static Gen<string> Pick(params string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    // Names a user may legally write: keywords escaped with '@', contextual keywords, unicode (also a combining
    // mark, which a hint name cannot hold as it is), and names of members the generated part declares.
    static readonly Gen<string> Names = Pick("Mixer", "@class", "@for", "@event", "@namespace", "var", "record",
        "Ωmega", "Größe", "模型", "Cafe\u0301", "_x9", "MixingFunction", "Dim", "Forward", "E");

    static readonly Gen<string> Sizes = Pick("-1", "0", "1", "2", "3", "7", "64", "46341", "65536", "int.MaxValue", "int.MinValue");

    static readonly Gen<string> Layers =
        from kind in Gen.Int[0, 4]
        from a in Sizes
        from b in Sizes
        from c in Sizes
        from causal in Gen.Bool
        select kind switch
        {
            0 => $"[AftFull({a}, Dim = {b}, FactorRank = {c}, Causal = {(causal ? "true" : "false")})]",
            1 => $"[AftLocal({a}, {b}, Causal = {(causal ? "true" : "false")})]",
            2 => $"[AftSimple(Dim = {a}, HiddenDim = {b})]",
            3 => $"[AftConv({a}, {b}, Dim = {c})]",
            _ => $"[MultiHeadAttention({a}, Causal = {(causal ? "true" : "false")})]",
        };

    static readonly Gen<string> Declarations =
        from ns in Gen.Int[0, 3]
        from nsName in Names
        from outer in Gen.Int[0, 6]
        from outerName in Names
        from shape in Gen.Int[0, 8]
        from layerName in Names
        from layer in Layers
        from withModel in Gen.Bool
        from modelName in Names
        from stage in Names
        from vocab in Sizes
        from maxLength in Sizes
        from dim in Sizes
        select Compose(ns, nsName, outer, outerName, shape, layerName, layer, withModel, modelName, stage, vocab, maxLength, dim);

    static string Compose(int ns, string nsName, int outer, string outerName, int shape, string layerName, string layer,
        bool withModel, string modelName, string stage, string vocab, string maxLength, string dim)
    {
        var text = new System.Text.StringBuilder(ModelEmitterTests.Usings);
        var closers = new Stack<string>();
        switch (ns)
        {
            case 1: text.Append($"namespace Outer.{nsName};\n"); break;
            case 2: text.Append($"namespace Outer.{nsName} {{\n"); closers.Push("}\n"); break;
            case 3: text.Append($"namespace {nsName} {{ namespace Inner {{\n"); closers.Push("} }\n"); break;
        }
        var container = outer switch
        {
            1 => "partial class", 2 => "partial struct", 3 => "partial record", 4 => "file partial class", 5 => "partial class",
            _ => null,
        };
        if (container is not null)
        {
            text.Append($"public {container} Outer{(outer == 5 ? "<T>" : "")}{(outerName.StartsWith('@') ? "" : "_" + outerName)} {{\n");
            closers.Push("}\n");
        }
        var declaration = shape switch
        {
            1 => "partial record", 2 => "class", 3 => "file partial class", 4 => "abstract partial class", 5 => "partial struct",
            6 => "static partial class", 7 => "partial class",
            _ => "sealed partial class",
        };
        var modifier = declaration.StartsWith("file", StringComparison.Ordinal) ? "" : "public ";
        var baseClass = shape == 7 ? " : global::System.EventArgs" : "";                  // a base class of its own
        text.Append($"{layer} {modifier}{declaration} {layerName}{baseClass};\n");
        if (withModel && modelName != layerName)
        {
            text.Append($"[AftModel, TokenInput({vocab}, {maxLength})] public partial class {modelName} {{\n");
            text.Append($"    [Embedding({dim})] public partial Embedding {stage} {{ get; }}\n");
            text.Append($"    [Blocks(1, typeof({layerName}))] public partial BlockStack Body{(stage == "E" ? "" : "s")} {{ get; }}\n");
            text.Append("}\n");
        }
        while (closers.Count > 0)
            text.Append(closers.Pop());
        return text.ToString();
    }

    /// <summary>
    /// Legal C# of every shape with AftDsl attributes: the generator never throws (no CS8785, no AFT9001), and its
    /// output compiles or the mistake is an AFT diagnostic: no compiler error in generated code, and no compiler
    /// error on the user's code that the source did not have before generation (a cascade).
    /// </summary>
    [Fact]
    public void Generated_names_namespaces_type_shapes_and_extreme_sizes_compile_or_are_diagnosed()
    {
        Declarations.Sample(source =>
        {
            var input = GeneratorHarness.Compilation(source);
            var (result, output) = GeneratorHarness.Run(source);
            if (result.Results.Single().Exception is { } failure)
                throw new InvalidOperationException($"The generator threw on:\n{source}", failure);
            var effective = GeneratorHarness.EffectiveDiagnostics(result, output);
            if (result.Diagnostics.Concat(effective).FirstOrDefault(d => d.Id is "CS8785" or "AFT9001") is { } crash)
                throw new InvalidOperationException($"{crash.Id} on:\n{source}\n{crash.GetMessage()}");
            var before = input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => (d.Id, d.Location.SourceSpan)).ToHashSet();
            var aftErrors = effective.Any(d => d.Id.StartsWith("AFT", StringComparison.Ordinal) && d.Severity == DiagnosticSeverity.Error);
            var cascade = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error)
                .Where(d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true
                    || !before.Contains((d.Id, d.Location.SourceSpan))
                    || d.Id == "CS9248" && !aftErrors)                       // a stage left without its part, unexplained
                .ToList();
            if (cascade.Count > 0)
                throw new InvalidOperationException($"compiler errors the generator caused:\n{string.Join("\n", cascade)}\nin:\n{source}\n" +
                    string.Join("\n", result.GeneratedTrees.Select(t => t.ToString())));
        }, iter: 400, threads: 1);
    }
}
