using System.Collections.Immutable;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// The analyzer reports AFT diagnostics and the generator does not: a compiler running both (as csc does) shows
/// each mistake exactly once, and the usual severity controls (#pragma, .editorconfig) apply to them.
/// </summary>
public sealed class AnalyzerTests
{
    const string Broken = ModelEmitterTests.Usings + """
        [AftConv(heads: 32, window: 7, Dim = 380)] public partial class Bad;          // AFT0201
        [AftFull(maxLength: 0)] public partial class Empty;                           // AFT0101
        [AftLocal(maxLength: 64, window: 8)] public class NotPartial;                 // AFT0001
        [AftSimple(Dim = 64)] public partial class Wide;
        [AftModel(Causal = true), TokenInput(vocab: 256, maxLength: 64)]
        public partial class Lm
        {
            [Embedding(dim: 32)] public partial Embedding Embed { get; }
            [Blocks(depth: 2, mixer: typeof(Wide))] public partial BlockStack Body { get; } // AFT0303
        }
        """;

    static readonly string[] Expected = ["AFT0001", "AFT0101", "AFT0201", "AFT0303"];

    /// <summary>What csc reports: the generator driver's diagnostics, the compilation's and the analyzers'.</summary>
    static ImmutableArray<Diagnostic> AsTheCompilerReports(Compilation compilation)
    {
        var driver = GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.Empty(driver.GetRunResult().Diagnostics);                       // the generator itself reports nothing
        var analyzers = output.WithAnalyzers([new AftDiagnosticAnalyzer()], new AnalyzerOptions([]));
        return [.. generatorDiagnostics, .. analyzers.GetAllDiagnosticsAsync().GetAwaiter().GetResult()];
    }

    [Fact]
    public void With_generator_and_analyzer_each_mistake_is_reported_exactly_once()
    {
        var reported = AsTheCompilerReports(GeneratorHarness.Compilation(Broken))
            .Where(d => d.Id.StartsWith("AFT", StringComparison.Ordinal)).Select(d => d.Id).Order().ToList();
        Assert.Equal(Expected, reported);
    }

    [Fact]
    public void The_analyzer_declares_every_descriptor_of_the_catalogue_once()
    {
        // Every analyzer of the generator assembly: AFT9002 (build targets not imported) has one of its own.
        var analyzers = typeof(AftDiagnosticAnalyzer).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer).IsAssignableFrom(t))
            .Select(t => (Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer)Activator.CreateInstance(t)!);
        var ids = analyzers.SelectMany(a => a.SupportedDiagnostics).Select(d => d.Id).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Contains("AFT0001", ids);
        Assert.Contains("AFT9001", ids);
        // Every ID in the release notes (which RS2008 keeps in step with the descriptors) is declared.
        var unshipped = File.ReadAllLines(Path.Combine(RepositoryRoot(), "generators/AftDsl.Generators/AnalyzerReleases.Unshipped.md"))
            .Where(line => line.StartsWith("AFT", StringComparison.Ordinal)).Select(line => line.Split(' ')[0]);
        Assert.Equal(unshipped.Order(), ids.Order());
    }

    [Fact]
    public void An_editorconfig_severity_applies_to_AFT_diagnostics()
    {
        var config = AnalyzerConfig.Parse("""
            root = true
            [*.cs]
            dotnet_diagnostic.AFT0101.severity = none
            dotnet_diagnostic.AFT0201.severity = warning
            """, "/consumer/.editorconfig");
        var options = new EditorConfigTreeOptions(AnalyzerConfigSet.Create(ImmutableArray.Create(config)));
        var compilation = CSharpCompilation.Create("Consumer",
            [CSharpSyntaxTree.ParseText(Broken, GeneratorHarness.ParseOptions, path: "/consumer/Layers.cs")],
            GeneratorHarness.MetadataReferences,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary).WithSyntaxTreeOptionsProvider(options));

        var reported = AsTheCompilerReports(compilation).Where(d => d.Id.StartsWith("AFT", StringComparison.Ordinal) && !d.IsSuppressed)
            .ToDictionary(d => d.Id, d => d.Severity);

        Assert.False(reported.ContainsKey("AFT0101"), "severity = none must silence AFT0101");
        Assert.Equal(DiagnosticSeverity.Warning, reported["AFT0201"]);
        Assert.Equal(DiagnosticSeverity.Error, reported["AFT0001"]);
    }

    [Fact]
    public void A_pragma_silences_one_AFT_diagnostic_and_leaves_the_others()
    {
        var source = Broken.Replace("[AftFull(maxLength: 0)] public partial class Empty;",
            "#pragma warning disable AFT0101\n[AftFull(maxLength: 0)] public partial class Empty;\n#pragma warning restore AFT0101");
        var reported = AsTheCompilerReports(GeneratorHarness.Compilation(source))
            .Where(d => d.Id.StartsWith("AFT", StringComparison.Ordinal) && !d.IsSuppressed).Select(d => d.Id).Order().ToList();
        Assert.Equal(["AFT0001", "AFT0201", "AFT0303"], reported);
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "AftDsl.sln")))
                return directory.FullName;
        throw new InvalidOperationException($"no AftDsl.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Severities from .editorconfig files, as the compiler reads them for each syntax tree.</summary>
    sealed class EditorConfigTreeOptions(AnalyzerConfigSet configs) : SyntaxTreeOptionsProvider
    {
        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

        public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity) =>
            configs.GetOptionsForSourcePath(tree.FilePath).TreeOptions.TryGetValue(diagnosticId, out severity);

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic severity) =>
            configs.GlobalConfigOptions.TreeOptions.TryGetValue(diagnosticId, out severity);
    }
}
