using System.Collections.Immutable;
using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using AftDsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace AftDsl.Generators;

/// <summary>
/// Reports every AFT diagnostic. It runs the parsers the generator runs, on the same declarations, and only
/// reports what they find; the generator reports nothing. Why an analyzer and not the generator: language
/// servers and IDEs surface analyzer diagnostics (with squiggles, #pragma and .editorconfig severities) where
/// many drop a generator's, and in <c>dotnet build</c> each mistake is then reported exactly once.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AftDiagnosticAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => Descriptors.All;

    public override void Initialize(AnalysisContext context)
    {
        // The generator reads attributed classes in any file, generated or not: so does the analyzer.
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
        context.EnableConcurrentExecution();
        context.RegisterSymbolAction(Analyze, SymbolKind.NamedType);
    }

    static void Analyze(SymbolAnalysisContext context)
    {
        var symbol = (INamedTypeSymbol)context.Symbol;
        foreach (var diagnostic in Diagnose(symbol, context.CancellationToken))
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
    }

    /// <summary>
    /// The diagnostics of every generating attribute on <paramref name="symbol"/>, one parse per attribute and
    /// declaration, as the generator's <c>ForAttributeWithMetadataName</c> sees them (it hands the parser the first
    /// attribute of its name on each declaration).
    /// </summary>
    internal static IEnumerable<DiagnosticInfo> Diagnose(INamedTypeSymbol symbol, CancellationToken cancellation)
    {
        var seen = new HashSet<(SyntaxNode Declaration, string Attribute)>();
        foreach (var attribute in symbol.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() is not { } name
                || attribute.ApplicationSyntaxReference?.GetSyntax(cancellation) is not AttributeSyntax { Parent.Parent: TypeDeclarationSyntax type }
                || !seen.Add((type, name)))
                continue;
            var generating = name == ModelParser.AttributeName || MixerParser.Attributes.Any(a => a.MetadataName == name);
            if (type is RecordDeclarationSyntax record && generating)
            {
                // The generator reads classes only: a record would be ignored without a word.
                yield return TargetTypeParser.Record(record, symbol, $"{attribute.AttributeClass.Name.Replace("Attribute", "")} '{symbol.Name}'");
                continue;
            }
            if (type is not ClassDeclarationSyntax declaration)
                continue;
            ParseResult<MixerSpec>? layer = null;
            ParseResult<ModelSpec>? model = null;
            if (name == ModelParser.AttributeName)
                model = ModelParser.Parse(declaration, symbol, attribute);
            else if (MixerParser.Attributes.FirstOrDefault(a => a.MetadataName == name) is { MetadataName: not null } known)
                layer = MixerParser.Parse(declaration, symbol, attribute, known.Kind);
            foreach (var diagnostic in layer?.Diagnostics ?? model?.Diagnostics ?? EquatableArray<DiagnosticInfo>.Empty)
                yield return diagnostic;
        }
    }
}
