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

        /// <summary>The name of the model pipeline's steps.</summary>
        public const string Models = "AftModel";

        /// <summary>The step reading the MSBuild property <c>AftDslRuntimeGuards</c>.</summary>
        public const string Guards = "RuntimeGuards";

        /// <summary>Every tracked step: Parse, Model and Diagnostics for each layer attribute and for models.</summary>
        public static IEnumerable<string> All =>
            MixerParser.Attributes.Select(a => Name(a.Kind)).Append(Models).SelectMany(n => new[] { Parse(n), Model(n), Diagnostics(n) }).Append(Guards);

        internal static string Name(MixerKind kind) => kind == MixerKind.Attention ? "MultiHeadAttention" : "Aft" + kind;
    }

    /// <summary>MSBuild property that turns the generated run-time guards off (<c>&lt;AftDslRuntimeGuards&gt;false&lt;/AftDslRuntimeGuards&gt;</c>).</summary>
    public const string GuardsProperty = "build_property.AftDslRuntimeGuards";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var guards = context.AnalyzerConfigOptionsProvider
            .Select(static (options, _) => !(options.GlobalOptions.TryGetValue(GuardsProperty, out var value) && string.Equals(value?.Trim(), "false", StringComparison.OrdinalIgnoreCase)))
            .WithTrackingName(Steps.Guards);
        foreach (var (metadataName, kind) in MixerParser.Attributes)
            RegisterMixer(context, metadataName, kind, guards);
        RegisterModels(context, guards);
    }

    static void RegisterModels(IncrementalGeneratorInitializationContext context, IncrementalValueProvider<bool> guards)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(ModelParser.AttributeName,
                static (node, _) => node is ClassDeclarationSyntax,
                static (syntax, _) => ModelParser.Parse(syntax))
            .WithTrackingName(Steps.Parse(Steps.Models));
        var models = parsed
            .Where(static result => result.Spec is not null)
            .Select(static (result, _) => result.Spec!)
            .WithTrackingName(Steps.Model(Steps.Models))
            .Combine(guards);
        var diagnostics = parsed
            .Where(static result => result.Diagnostics.Count > 0)
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(Steps.Diagnostics(Steps.Models));
        context.RegisterSourceOutput(models, static (output, item) =>
            output.AddSource($"{item.Left.Target.QualifiedName}.g.cs", ModelEmitter.Emit(item.Left, item.Right)));
        context.RegisterSourceOutput(diagnostics, static (output, found) =>
        {
            foreach (var diagnostic in found)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }

    // One ForAttributeWithMetadataName per attribute: the compiler then only visits classes that carry it.
    static void RegisterMixer(IncrementalGeneratorInitializationContext context, string metadataName, MixerKind kind, IncrementalValueProvider<bool> guards)
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
            .WithTrackingName(Steps.Model(name))
            .Combine(guards);

        var diagnostics = parsed
            .Where(static result => result.Diagnostics.Count > 0)
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(Steps.Diagnostics(name));

        context.RegisterSourceOutput(models, static (output, item) =>
            output.AddSource($"{item.Left.Target.QualifiedName}.g.cs", MixerEmitter.Emit(item.Left, item.Right)));
        context.RegisterSourceOutput(diagnostics, static (output, found) =>
        {
            foreach (var diagnostic in found)
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
        });
    }
}
