using System.Collections.Immutable;
using AftDsl.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AftDsl.Generators.Tests.Support;

/// <summary>Runs the generator on source text the way the compiler does, against the real assemblies.</summary>
public static class GeneratorHarness
{
    static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var library = new[] { typeof(AftFullAttribute).Assembly.Location, typeof(TorchSharp.torch).Assembly.Location };
        return platform.Concat(library).Distinct().Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create("UserProject",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"File{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver() =>
        CSharpGeneratorDriver.Create([new AftLayerGenerator().AsSourceGenerator()], parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>The generator's output and diagnostics, and the compilation that includes the generated sources.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output) Run(params string[] sources)
    {
        var driver = Driver().RunGeneratorsAndUpdateCompilation(Compilation(sources), out var output, out _);
        return (driver.GetRunResult(), output);
    }

    /// <summary>Errors and warnings of the compilation with generated code, after #pragma and options filtering.</summary>
    public static ImmutableArray<Diagnostic> EffectiveDiagnostics(GeneratorDriverRunResult result, Compilation output) =>
        Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzers.GetEffectiveDiagnostics(result.Diagnostics.AddRange(output.GetDiagnostics()), output)
            .Where(d => !d.IsSuppressed && d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
}
