using AftDsl.Generators.Emit;
using AftDsl.Generators.Model;
using AftDsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators;

/// <summary>
/// Generates TorchSharp modules for classes marked with AftDsl layer attributes.
/// Pipeline per attribute: parse (symbols → value model + diagnostics) → model → emit;
/// diagnostics flow through their own output so that the source output sees only plain values.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AftLayerGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, asserted by the incremental-caching tests.</summary>
    public static class Steps
    {
        public const string AftFullParse = "AftFull.Parse";
        public const string AftFullModel = "AftFull.Model";
        public const string AftFullDiagnostics = "AftFull.Diagnostics";
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var aftFull = context.SyntaxProvider
            .ForAttributeWithMetadataName(AftFullParser.AttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                AftFullParser.Parse)
            .WithTrackingName(Steps.AftFullParse);

        var models = aftFull
            .Where(static result => result.Spec is not null)
            .Select(static (result, _) => result.Spec!)
            .WithTrackingName(Steps.AftFullModel);

        var diagnostics = aftFull
            .Where(static result => result.Diagnostics.Count > 0)
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(Steps.AftFullDiagnostics);

        context.RegisterSourceOutput(models, static (output, spec) =>
            output.AddSource($"{spec.Target.QualifiedName}.g.cs", AftFullEmitter.Emit(spec)));
        context.RegisterSourceOutput(diagnostics, static (output, found) =>
        {
            foreach (var diagnostic in found)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }
}
