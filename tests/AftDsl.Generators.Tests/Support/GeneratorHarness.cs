using System.Collections.Immutable;
using AftDsl.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

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

    /// <summary>The framework, AftDsl and TorchSharp, as a user's project references them.</summary>
    public static ImmutableArray<MetadataReference> MetadataReferences => References.Value;

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create("UserProject",
            sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: $"File{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(AnalyzerConfigOptionsProvider? options = null) =>
        CSharpGeneratorDriver.Create([new AftLayerGenerator().AsSourceGenerator()], parseOptions: ParseOptions, optionsProvider: options,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>
    /// The generator's output and the analyzer's diagnostics (which is where AFT diagnostics come from), and the
    /// compilation that includes the generated sources.
    /// </summary>
    public static (GeneratorRun Result, Compilation Output) Run(params string[] sources) => Run(null, sources);

    /// <summary>As <see cref="Run(string[])"/>, with MSBuild properties (<c>build_property.X</c>) visible to the generator.</summary>
    public static (GeneratorRun Result, Compilation Output) Run(AnalyzerConfigOptionsProvider? options, params string[] sources)
    {
        var driver = Driver(options).RunGeneratorsAndUpdateCompilation(Compilation(sources), out var output, out _);
        return (new GeneratorRun(driver.GetRunResult(), AnalyzerDiagnostics(output, options)), output);
    }

    /// <summary>
    /// The AFT analyzer's diagnostics on <paramref name="compilation"/>, as the compiler runs it, including those a
    /// <c>#pragma</c> or an option suppresses (marked <see cref="Diagnostic.IsSuppressed"/>), in source order.
    /// </summary>
    public static ImmutableArray<Diagnostic> AnalyzerDiagnostics(Compilation compilation, AnalyzerConfigOptionsProvider? options = null)
    {
        var analyzerOptions = options is null ? new AnalyzerOptions([]) : new AnalyzerOptions([], options);
        var withAnalyzer = compilation.WithAnalyzers([new AftDiagnosticAnalyzer()],
            new CompilationWithAnalyzersOptions(analyzerOptions, onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false,
                reportSuppressedDiagnostics: true));
        return [.. withAnalyzer.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult()
            .OrderBy(d => d.Location.SourceTree?.FilePath, StringComparer.Ordinal).ThenBy(d => d.Location.SourceSpan.Start)];
    }

    /// <summary>Global analyzer options, as MSBuild passes CompilerVisibleProperty values.</summary>
    public static AnalyzerConfigOptionsProvider Options(params (string Key, string Value)[] global) => new GlobalOptionsProvider(global.ToDictionary(p => p.Key, p => p.Value));

    sealed class GlobalOptionsProvider(Dictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options([]);

        sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }

    /// <summary>Errors and warnings of the compilation with generated code, after #pragma and options filtering.</summary>
    public static ImmutableArray<Diagnostic> EffectiveDiagnostics(GeneratorRun result, Compilation output) =>
        Microsoft.CodeAnalysis.Diagnostics.CompilationWithAnalyzers.GetEffectiveDiagnostics(result.Diagnostics.AddRange(output.GetDiagnostics()), output)
            .Where(d => !d.IsSuppressed && d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
}

/// <summary>What one run gives: the generator's result and the AFT analyzer's diagnostics over the generated compilation.</summary>
public sealed class GeneratorRun(GeneratorDriverRunResult driver, ImmutableArray<Diagnostic> analyzer)
{
    /// <summary>The generator driver's own result: generated sources, tracked steps, exceptions.</summary>
    public GeneratorDriverRunResult Driver => driver;

    /// <summary>Every diagnostic of the generator (which reports none of its own) and of the analyzer.</summary>
    public ImmutableArray<Diagnostic> Diagnostics { get; } = driver.Diagnostics.AddRange(analyzer);

    public ImmutableArray<SyntaxTree> GeneratedTrees => driver.GeneratedTrees;

    public ImmutableArray<GeneratorRunResult> Results => driver.Results;
}
