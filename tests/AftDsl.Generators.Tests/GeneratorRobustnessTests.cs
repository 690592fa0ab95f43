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
}
