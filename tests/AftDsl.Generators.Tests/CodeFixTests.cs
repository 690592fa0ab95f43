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
    static async Task<(List<CodeAction> Actions, Func<CodeAction, Task<string>> Apply)> Offer(CodeFixProvider provider, string source, string id)
    {
        var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Create(), "User", "User", LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary), parseOptions: GeneratorHarness.ParseOptions,
            metadataReferences: GeneratorHarness.MetadataReferences));
        var document = workspace.AddDocument(project.Id, "File0.cs", SourceText.From(source));
        var compilation = await document.Project.GetCompilationAsync();
        var diagnostic = GeneratorHarness.Driver().RunGenerators(compilation!).GetRunResult().Diagnostics.Single(d => d.Id == id);
        var actions = new List<CodeAction>();
        await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        async Task<string> Apply(CodeAction action)
        {
            var change = (await action.GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>().Single();
            return (await change.ChangedSolution.GetDocument(document.Id)!.GetTextAsync()).ToString();
        }
        return (actions, Apply);
    }

    static void BuildsCleanly(string source) =>
        Assert.DoesNotContain(GeneratorHarness.Run(source).Result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);

    [Fact]
    public async Task AFT0001_adds_partial()
    {
        var (actions, apply) = await Offer(new MakePartialCodeFix(), "[AftDsl.AftFull(maxLength: 256)]\npublic sealed class Mixer;", "AFT0001");
        var action = Assert.Single(actions);
        Assert.Equal("Make 'Mixer' partial", action.Title);
        var fixedSource = await apply(action);
        Assert.Equal("[AftDsl.AftFull(maxLength: 256)]\npublic sealed partial class Mixer;", fixedSource);
        BuildsCleanly(fixedSource);
    }

    [Fact]
    public async Task AFT0201_offers_the_nearest_head_counts_and_dims()
    {
        var (actions, apply) = await Offer(new HeadsDivideDimCodeFix(), "[AftDsl.AftConv(heads: 32, window: 7, Dim = 380)] public partial class PatchMixer;", "AFT0201");
        Assert.Equal(["Use 20 heads (divides Dim = 380)", "Use 38 heads (divides Dim = 380)", "Use Dim = 352 (divisible by 32 heads)", "Use Dim = 384 (divisible by 32 heads)"],
            actions.Select(a => a.Title));
        var fixedSource = await apply(actions[3]);
        Assert.Equal("[AftDsl.AftConv(heads: 32, window: 7, Dim = 384)] public partial class PatchMixer;", fixedSource);
        BuildsCleanly(fixedSource);
        BuildsCleanly(await apply(actions[0]));
    }

    [Fact]
    public async Task AFT0202_makes_the_window_odd()
    {
        var (actions, apply) = await Offer(new OddWindowCodeFix(), "[AftDsl.AftConv(heads: 4, window: 6)] public partial class PatchMixer;", "AFT0202");
        Assert.Equal(["Use window: 5", "Use window: 7"], actions.Select(a => a.Title));
        var fixedSource = await apply(actions[1]);
        Assert.Equal("[AftDsl.AftConv(heads: 4, window: 7)] public partial class PatchMixer;", fixedSource);
        BuildsCleanly(fixedSource);
    }
}
