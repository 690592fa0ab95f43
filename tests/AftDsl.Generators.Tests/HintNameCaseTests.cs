using AftDsl.Generators.Tests.Support;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests;

/// <summary>Roslyn compares hint names ignoring case: types whose names differ only in case must not claim one file.</summary>
public sealed class HintNameCaseTests
{
    [Theory]
    [InlineData("L", "l")]
    [InlineData("Model", "model")]
    [InlineData("Outer.Mixer", "outer.Mixer")]
    public void Types_whose_names_differ_only_in_case_each_get_their_file(string first, string second)
    {
        static string Declare(string name) => name.Contains('.')
            ? $"namespace {name[..name.LastIndexOf('.')]} {{ [AftSimple(Dim = 8)] public partial class {name[(name.LastIndexOf('.') + 1)..]}; }}\n"
            : $"[AftSimple(Dim = 8)] public partial class {name};\n";
        var source = ModelEmitterTests.Usings + Declare(first) + Declare(second);
        var (result, output) = GeneratorHarness.Run(source);
        Assert.Null(result.Results.Single().Exception);
        Assert.DoesNotContain(result.Diagnostics, d => d.Id == "CS8785");
        Assert.Equal(2, result.GeneratedTrees.Length);
        Assert.DoesNotContain(output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }
}
