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
        public static string Parse(string attribute) => attribute + ".Parse";
        public static string Model(string attribute) => attribute + ".Model";
        public static string Diagnostics(string attribute) => attribute + ".Diagnostics";

        /// <summary>Every tracked step: Parse, Model and Diagnostics for each layer attribute.</summary>
        public static IEnumerable<string> All =>
            MixerParser.Attributes.SelectMany(a => new[] { Parse(Name(a.Kind)), Model(Name(a.Kind)), Diagnostics(Name(a.Kind)) });

        internal static string Name(MixerKind kind) => "Aft" + kind;
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        foreach (var (metadataName, kind) in MixerParser.Attributes)
            RegisterMixer(context, metadataName, kind);
    }

    // One ForAttributeWithMetadataName per attribute: the compiler then only visits classes that carry it.
    static void RegisterMixer(IncrementalGeneratorInitializationContext context, string metadataName, MixerKind kind)
    {
        var name = Steps.Name(kind);
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(metadataName,
                static (node, _) => node is ClassDeclarationSyntax,
                (syntax, _) => MixerParser.Parse(syntax, kind))
            .WithTrackingName(Steps.Parse(name));

        var models = parsed
            .Where(static result => result.Spec is not null)
            .Select(static (result, _) => result.Spec!)
            .WithTrackingName(Steps.Model(name));

        var diagnostics = parsed
            .Where(static result => result.Diagnostics.Count > 0)
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(Steps.Diagnostics(name));

        context.RegisterSourceOutput(models, static (output, spec) =>
            output.AddSource($"{spec.Target.QualifiedName}.g.cs", MixerEmitter.Emit(spec)));
        context.RegisterSourceOutput(diagnostics, static (output, found) =>
        {
            foreach (var diagnostic in found)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }
}
