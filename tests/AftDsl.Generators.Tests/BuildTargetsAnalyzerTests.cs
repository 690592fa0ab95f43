using System.Collections.Immutable;
using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>
/// AFT9002: a project that MSBuild builds without AftDsl's targets (a project reference without the import) is told so,
/// once, because its <c>&lt;AftDslRuntimeGuards&gt;</c> could not reach the generator. The real MSBuild case is tested
/// in AftDsl.Package.Tests; these pin down when it is and is not reported.
/// </summary>
public sealed class BuildTargetsAnalyzerTests
{
    const string Layers = """
        using AftDsl;

        [AftSimple(Dim = 8)] public partial class First;
        [AftSimple(Dim = 16)] public partial class Second;
        """;

    const string ProjectDir = "build_property.ProjectDir";
    const string Guards = "build_property.AftDslRuntimeGuards";

    static ImmutableArray<Diagnostic> Diagnose(string source, params (string Key, string Value)[] properties)
    {
        var options = new AnalyzerOptions([], GeneratorHarness.Options(properties));
        return GeneratorHarness.Compilation(source)
            .WithAnalyzers([new BuildTargetsAnalyzer()], options)
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
    }

    [Fact]
    public void Msbuild_without_the_targets_is_warned_once_per_project()
    {
        var diagnostic = Assert.Single(Diagnose(Layers, (ProjectDir, "/src/App/")));
        Assert.Equal("AFT9002", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(Location.None, diagnostic.Location);
        var message = diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("<AftDslRuntimeGuards> has no effect", message);
        Assert.Contains("<Import Project=\"path/to/src/AftDsl/buildTransitive/AftDsl.targets\" />", message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("false")]
    public void The_targets_marker_silences_it_whatever_its_value(string value) =>
        Assert.Empty(Diagnose(Layers, (ProjectDir, "/src/App/"), (Guards, value)));

    [Fact]
    public void A_project_without_AFT_declarations_has_nothing_to_import() =>
        Assert.Empty(Diagnose("public partial class Plain;", (ProjectDir, "/src/App/")));

    [Fact]
    public void A_host_that_passes_no_msbuild_properties_is_not_warned() =>
        Assert.Empty(Diagnose(Layers));
}
