using System.Collections.Immutable;
using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace AftDsl.Generators;

/// <summary>
/// Warns (AFT9002) when a project built by MSBuild declares AFT layers or models without AftDsl's build targets.
/// Why: <c>&lt;AftDslRuntimeGuards&gt;</c> reaches the generator only through the targets' <c>CompilerVisibleProperty</c>,
/// which the package imports (buildTransitive) but a project reference cannot: MSBuild imports nothing from a
/// referenced project. Without the warning the property would do nothing, silently.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BuildTargetsAnalyzer : DiagnosticAnalyzer
{
    /// <summary>
    /// A property the .NET SDK makes visible to analyzers in every C# project (Microsoft.NET.Sdk.Analyzers.targets). Its
    /// presence tells an MSBuild build from a host that passes no MSBuild properties at all (a test, a script), where
    /// the missing marker means nothing.
    /// </summary>
    public const string SdkProperty = "build_property.ProjectDir";

    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [Descriptors.BuildTargetsNotImported];

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var global = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
            // The targets declare the property compiler-visible, so MSBuild passes the key even when it is not set.
            if (!global.TryGetValue(SdkProperty, out _) || global.TryGetValue(AftLayerGenerator.GuardsProperty, out _))
                return;
            var declares = 0;
            start.RegisterSymbolAction(symbol =>
            {
                if (Volatile.Read(ref declares) == 0 && symbol.Symbol.GetAttributes().Any(a => a.AttributeClass is { } type && Generates(type)))
                    Interlocked.Exchange(ref declares, 1);
            }, SymbolKind.NamedType);
            // Once per project, not once per declaration: it is the project that lacks the import.
            start.RegisterCompilationEndAction(end =>
            {
                if (Volatile.Read(ref declares) == 1)
                    end.ReportDiagnostic(Diagnostic.Create(Descriptors.BuildTargetsNotImported, Location.None));
            });
        });
    }

    // The attributes the generator writes a class for; a project without any has no guards to turn off.
    static bool Generates(INamedTypeSymbol attribute)
    {
        var name = attribute.ToDisplayString();
        return name == ModelParser.AttributeName || MixerParser.Attributes.Any(known => known.MetadataName == name);
    }
}
