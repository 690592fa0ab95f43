using AftDsl.CodeFixes;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>The code fixes, run the way the IDE runs them: on the generator's diagnostic in a workspace document.</summary>
public sealed class CodeFixTests
{
    /// <summary>
    /// The fixes <paramref name="provider"/> offers for the diagnostic <paramref name="id"/> in the first file, and
    /// a way to apply one and read any file back (files are File0.cs, File1.cs, … in the order given).
    /// </summary>
    static async Task<(List<CodeAction> Actions, Func<CodeAction, int, Task<string>> Apply)> Offer(CodeFixProvider provider, string id, params string[] files)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "User", "User", LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary), parseOptions: GeneratorHarness.ParseOptions,
            metadataReferences: GeneratorHarness.MetadataReferences));
        var documents = files.Select((text, i) => workspace.AddDocument(project.Id, $"File{i}.cs", SourceText.From(text)).Id).ToList();
        var document = workspace.CurrentSolution.GetDocument(documents[0])!;
        var compilation = await document.Project.GetCompilationAsync();
        var diagnostic = GeneratorHarness.AnalyzerDiagnostics(compilation!).Single(d => d.Id == id);
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        async Task<string> Apply(CodeAction action, int file)
        {
            var change = (await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>().Single();
            return (await change.ChangedSolution.GetDocument(documents[file])!.GetTextAsync()).ToString();
        }
        return (actions, Apply);
    }

    static void BuildsCleanly(params string[] files) =>
        Assert.DoesNotContain(GeneratorHarness.Run(files).Result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);

    [Fact]
    public async Task AFT0001_adds_partial()
    {
        var (actions, apply) = await Offer(new MakePartialCodeFix(), "AFT0001", "[AftDsl.AftFull(maxLength: 256)]\npublic sealed class Mixer;");
        var action = Assert.Single(actions);
        Assert.Equal("Make 'Mixer' partial", action.Title);
        var fixedSource = await apply(action, 0);
        Assert.Equal("[AftDsl.AftFull(maxLength: 256)]\npublic sealed partial class Mixer;", fixedSource);
        BuildsCleanly(fixedSource);
    }

    [Fact]
    public async Task AFT0201_offers_the_nearest_head_counts_and_dims()
    {
        var (actions, apply) = await Offer(new HeadsDivideDimCodeFix(), "AFT0201", "[AftDsl.AftConv(heads: 32, window: 7, Dim = 380)] public partial class PatchMixer;");
        Assert.Equal(["Use 20 heads (divides Dim = 380)", "Use 38 heads (divides Dim = 380)", "Use Dim = 352 (divisible by 32 heads)", "Use Dim = 384 (divisible by 32 heads)"],
            actions.Select(a => a.Title));
        var fixedSource = await apply(actions[3], 0);
        Assert.Equal("[AftDsl.AftConv(heads: 32, window: 7, Dim = 384)] public partial class PatchMixer;", fixedSource);
        BuildsCleanly(fixedSource);
        BuildsCleanly(await apply(actions[0], 0));
    }

    [Fact]
    public async Task AFT0201_on_a_model_changes_the_heads_where_the_mixer_is_declared()
    {
        const string model = ModelEmitterTests.Usings + """
            [AftModel, ImageInput(channels: 1)]
            public partial class Classifier
            {
                [PatchEmbedding(patch: 2, dim: 64)] public partial PatchEmbedding Patches { get; }
                [Blocks(depth: 1, mixer: typeof(PatchMixer))] public partial BlockStack Body { get; }
            }
            """;
        const string mixer = "[AftDsl.AftConv(heads: 6, window: 3)] public partial class PatchMixer;";
        var (actions, apply) = await Offer(new HeadsDivideDimCodeFix(), "AFT0201", model, mixer);
        Assert.Equal(["Use 4 heads in PatchMixer (divides the model's width 64)", "Use 8 heads in PatchMixer (divides the model's width 64)"],
            actions.Select(a => a.Title));
        var fixedMixer = await apply(actions[1], 1);
        Assert.Equal("[AftDsl.AftConv(heads: 8, window: 3)] public partial class PatchMixer;", fixedMixer);
        Assert.Equal(model, await apply(actions[1], 0));
        BuildsCleanly(model, fixedMixer);
    }

    [Fact]
    public async Task AFT0202_makes_the_window_odd()
    {
        var (actions, apply) = await Offer(new OddWindowCodeFix(), "AFT0202", "[AftDsl.AftConv(heads: 4, window: 6)] public partial class PatchMixer;");
        Assert.Equal(["Use window: 5", "Use window: 7"], actions.Select(a => a.Title));
        var fixedSource = await apply(actions[1], 0);
        Assert.Equal("[AftDsl.AftConv(heads: 4, window: 7)] public partial class PatchMixer;", fixedSource);
        BuildsCleanly(fixedSource);
    }

    [Fact]
    public async Task AFT0102_sets_the_rank_to_maxLength_or_removes_it()
    {
        var (actions, apply) = await Offer(new FactorRankCodeFix(), "AFT0102", "[AftDsl.AftFull(maxLength: 64, FactorRank = 100)] public partial class Mixer;");
        Assert.Equal(["Use FactorRank = 64 (maxLength)", "Remove FactorRank (the default is min(128, maxLength))"], actions.Select(a => a.Title));
        var capped = await apply(actions[0], 0);
        Assert.Equal("[AftDsl.AftFull(maxLength: 64, FactorRank = 64)] public partial class Mixer;", capped);
        BuildsCleanly(capped);
        var removed = await apply(actions[1], 0);
        Assert.Equal("[AftDsl.AftFull(maxLength: 64)] public partial class Mixer;", removed);
        BuildsCleanly(removed);
    }

    [Fact]
    public async Task AFT0303_removes_the_mixers_own_Dim_where_it_is_declared()
    {
        const string model = ModelEmitterTests.Usings + """
            [AftModel, TokenInput(vocab: 256, maxLength: 64)]
            public partial class Lm
            {
                [Embedding(dim: 32)] public partial Embedding Embed { get; }
                [Blocks(depth: 2, mixer: typeof(Wide))] public partial BlockStack Body { get; }
            }
            """;
        const string mixer = "[AftDsl.AftSimple(Dim = 64, Causal = true)] public partial class Wide;";
        var (actions, apply) = await Offer(new RemoveMixerDimCodeFix(), "AFT0303", model, mixer);
        var action = Assert.Single(actions);
        Assert.Equal("Remove Dim = 64 from Wide (the model binds its width)", action.Title);
        var fixedMixer = await apply(action, 1);
        Assert.Equal("[AftDsl.AftSimple(Causal = true)] public partial class Wide;", fixedMixer);
        Assert.Equal(model, await apply(action, 0));
        BuildsCleanly(model, fixedMixer);
    }
}
