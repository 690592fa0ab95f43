using AftDsl.Generators.Emit;
using AftDsl.Generators.Model;
using AftDsl.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators;

/// <summary>
/// Generates TorchSharp modules for classes marked with AftDsl layer attributes.
/// Pipeline per attribute: parse (symbols → value model) → model → emit. It reports no diagnostics:
/// <see cref="AftDiagnosticAnalyzer"/> runs the same parsers and reports them, once, where editors show them.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AftLayerGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline steps, asserted by the incremental-caching tests.</summary>
    public static class Steps
    {
        public static string Parse(string attribute) => attribute + ".Parse";
        public static string Model(string attribute) => attribute + ".Model";
        /// <summary>The name of the model pipeline's steps.</summary>
        public const string Models = "AftModel";

        /// <summary>The step reading the MSBuild property <c>AftDslRuntimeGuards</c>.</summary>
        public const string Guards = "RuntimeGuards";

        /// <summary>Every tracked step: Parse and Model for each layer attribute and for models.</summary>
        public static IEnumerable<string> All =>
            MixerParser.Attributes.Select(a => Name(a.Kind)).Append(Models).SelectMany(n => new[] { Parse(n), Model(n) }).Append(Guards);

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
            Register(context, metadataName, Steps.Name(kind), syntax => MixerParser.Parse(syntax, kind), spec => spec.Target.HintName, MixerEmitter.Emit, guards);
        Register(context, ModelParser.AttributeName, Steps.Models, ModelParser.Parse, spec => spec.Target.HintName, ModelEmitter.Emit, guards);
    }

    // One ForAttributeWithMetadataName per attribute: the compiler then only visits classes that carry it. The
    // pipeline holds only the location-free spec, so an edit elsewhere regenerates nothing.
    static void Register<TSpec>(IncrementalGeneratorInitializationContext context, string attribute, string name,
        Func<GeneratorAttributeSyntaxContext, ParseResult<TSpec>> parse, Func<TSpec, string> hintName, Func<TSpec, bool, string> emit,
        IncrementalValueProvider<bool> guards)
        where TSpec : class, IEquatable<TSpec>
    {
        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(attribute, static (node, _) => node is ClassDeclarationSyntax, (syntax, _) =>
            {
                var parsed = parse(syntax);
                return new GeneratedPart<TSpec>(parsed.Spec, parsed.Spec is null ? parsed.Skeleton : null);
            })
            .WithTrackingName(Steps.Parse(name))
            .Where(static part => part.Spec is not null || part.Skeleton is not null)
            .WithTrackingName(Steps.Model(name))
            .Combine(guards);
        // A valid declaration gets its full part; one in error a skeleton, so that its mistakes bring no cascade.
        context.RegisterSourceOutput(models, (output, item) =>
        {
            var (part, runtimeGuards) = item;
            if (part.Spec is { } spec)
                output.AddSource($"{hintName(spec)}.g.cs", emit(spec, runtimeGuards));
            else
                output.AddSource(part.Skeleton!.HintName, SkeletonEmitter.Emit(part.Skeleton));
        });
    }
}
