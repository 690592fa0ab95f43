using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators.Parsing;

/// <summary>
/// Turns one class carrying a mixer attribute (<c>[AftFull]</c>, <c>[AftLocal]</c>, <c>[AftSimple]</c>,
/// <c>[AftConv]</c>) into a <see cref="MixerSpec"/>, or into diagnostics on the arguments at fault.
/// </summary>
internal static class MixerParser
{
    public static readonly IReadOnlyList<(string MetadataName, MixerKind Kind)> Attributes =
    [
        (AttributeNames.AftFull.Type, MixerKind.Full),
        (AttributeNames.AftLocal.Type, MixerKind.Local),
        (AttributeNames.AftSimple.Type, MixerKind.Simple),
        (AttributeNames.AftConv.Type, MixerKind.Conv),
        (AttributeNames.MultiHeadAttention.Type, MixerKind.Attention),
    ];

    public static ParseResult<MixerSpec> Parse(GeneratorAttributeSyntaxContext context, MixerKind kind) =>
        context.TargetNode is ClassDeclarationSyntax declaration && context.TargetSymbol is INamedTypeSymbol symbol
            ? Parse(declaration, symbol, context.Attributes[0], kind)
            : new(null, EquatableArray<DiagnosticInfo>.Empty);

    /// <summary>
    /// One declaration's attribute, checked: the entry point that the generator (for the spec) and the analyzer
    /// (for the diagnostics) share, so that both see the same mistakes.
    /// </summary>
    public static ParseResult<MixerSpec> Parse(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol, AttributeData attribute, MixerKind kind)
    {
        try
        {
            return Check(declaration, symbol, attribute, kind);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never let an exception escape into the compiler (CS8785): report it on the class instead.
            var failure = DiagnosticInfo.Create(Descriptors.GeneratorFailure, declaration.Identifier.GetLocation(), symbol.Name, e.GetType().Name, e.Message);
            return new(null, new[] { failure }.ToEquatableArray());
        }
    }

    /// <summary>How a class that a model names as its mixer (<c>typeof(X)</c>) was found.</summary>
    public enum Lookup
    {
        /// <summary>A layer of this compilation; the spec is set.</summary>
        Layer,
        /// <summary>The class carries no layer attribute.</summary>
        NotALayer,
        /// <summary>A layer whose declaration is in error: its own pipeline reports that, so the model need not.</summary>
        InError,
    }

    /// <summary>
    /// The spec of a mixer class that a model refers to, read from its layer attribute: from source, or from
    /// the metadata of a referenced assembly (whose own build generated and checked the layer).
    /// </summary>
    public static (MixerSpec? Spec, Lookup Found, AttributeArguments? Declared) Read(INamedTypeSymbol mixer)
    {
        foreach (var attribute in mixer.GetAttributes())
        {
            var known = Attributes.FirstOrDefault(a => attribute.AttributeClass?.ToDisplayString() == a.MetadataName);
            if (known.MetadataName is null)
                continue;
            var declaration = mixer.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<ClassDeclarationSyntax>().FirstOrDefault();
            if (declaration is null && !mixer.DeclaringSyntaxReferences.IsEmpty)
                return (null, Lookup.InError, null);               // in source but not a class (a record): AFT0007 is its own
            var spec = Check(declaration, mixer, attribute, known.Kind).Spec;
            return (spec, spec is null ? Lookup.InError : Lookup.Layer, new AttributeArguments(attribute));
        }
        return (null, Lookup.NotALayer, null);
    }

    /// <summary>The first error of a mixer class in error, to name in the skeleton of a model that uses it.</summary>
    public static DiagnosticInfo? FirstError(INamedTypeSymbol mixer)
    {
        var attribute = mixer.GetAttributes().FirstOrDefault(a => Attributes.Any(known => a.AttributeClass?.ToDisplayString() == known.MetadataName));
        if (attribute is null) return null;
        var kind = Attributes.First(known => attribute.AttributeClass!.ToDisplayString() == known.MetadataName).Kind;
        var declaration = mixer.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<ClassDeclarationSyntax>().FirstOrDefault();
        return Check(declaration, mixer, attribute, kind).Diagnostics.FirstOrDefault(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
    }

    static ParseResult<MixerSpec> Check(ClassDeclarationSyntax? declaration, INamedTypeSymbol symbol, AttributeData attribute, MixerKind kind)
    {
        var layer = $"{(kind == MixerKind.Attention ? "MultiHeadAttention" : "Aft" + kind)} '{symbol.Name}'";
        var arguments = new AttributeArguments(attribute);
        var diagnostics = new List<DiagnosticInfo>();
        if (GeneratingAttributes.DeclaredEarlier(symbol, attribute) is { } first)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.DeclaredTwice, arguments.Location, layer, symbol.Name, first));
            return Result(null, diagnostics);
        }
        var target = declaration is null ? TargetTypeParser.FromMetadata(symbol) : TargetTypeParser.Parse(declaration, symbol, layer, diagnostics);
        // In error but able to take a generated part: a skeleton keeps the code that uses the layer compiling.
        ParseResult<MixerSpec> Broken() => Result(null, diagnostics) with
        {
            Skeleton = target is null ? null : SkeletonBuilder.Layer(kind, target, layer, symbol, arguments, diagnostics),
        };
        if (arguments.HasErrors)
            return Broken();

        var checks = new SizeChecks(layer, diagnostics);
        var dim = arguments.Named<int>(AttributeNames.Mixer.Dim);
        var causal = arguments.Named<bool>(AttributeNames.Mixer.Causal)?.Value ?? false;
        checks.Positive(dim, AttributeNames.Mixer.Dim, "it is the width of the features, e.g. Dim = 256; leave it out to pass the width to the constructor");
        var spec = kind switch
        {
            MixerKind.Full or MixerKind.Local => PositionBiasMixer(kind, arguments, checks, dim?.Value, causal),
            MixerKind.Simple => new MixerSpec(kind, null!, dim?.Value, causal, HiddenDim(arguments, checks)),
            MixerKind.Attention => Attention(arguments, checks, dim, causal),
            _ => Conv(layer, arguments, checks, diagnostics, dim, causal),
        };
        if (spec is not null && declaration is not null)
            GeneratedMembers.Check(symbol, layer, GeneratedMembers.Layer(kind, spec.Dim is not null, spec.Decodes),
                spec.Dim is null ? [SpecialType.System_Int64] : [], new HashSet<string>(), diagnostics);
        if (spec is not null && spec.Dim is { } width && !Representable(spec, width))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.SizeTooLarge, arguments.Location, layer, "the layer"));
        if (spec is null || target is null || diagnostics.Count > 0)
            return Broken();
        return Result(spec with { Target = target }, diagnostics);
    }

    static bool Representable(MixerSpec spec, long dim)
    {
        try
        {
            ParameterCounts.Mixer(spec, dim);
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    static MixerSpec? PositionBiasMixer(MixerKind kind, AttributeArguments arguments, SizeChecks checks, int? dim, bool causal)
    {
        // The paper's rank 128, but never above maxLength: a short layer with no FactorRank must be valid as written.
        const int paperRank = AttributeNames.PositionBias.DefaultFactorRank;
        var maxLength = arguments.Constructor<int>(AttributeNames.PositionBias.MaxLength);
        var window = kind == MixerKind.Local ? arguments.Constructor<int>(AttributeNames.AftLocal.Window) : null;
        if (maxLength is null || (kind == MixerKind.Local && window is null))
            return null;
        checks.Positive(maxLength, AttributeNames.PositionBias.MaxLength, "it is the longest sequence T that forward accepts, e.g. maxLength: 1024");
        checks.Positive(window, AttributeNames.AftLocal.Window, "it is the width s of the band |t − t'| < s where position biases apply, e.g. window: 32");
        var rank = arguments.Named<int>(AttributeNames.PositionBias.FactorRank);
        checks.Positive(rank, AttributeNames.PositionBias.FactorRank, $"it is the rank of the factorised position bias w = U·Wᵀ, e.g. FactorRank = {paperRank}");
        checks.FactorRankWithinMaxLength(rank, maxLength.Value);
        var defaultRank = Math.Min(paperRank, Math.Max(1, maxLength.Value.Value));
        if (window is { } s)
            checks.WindowWithinMaxLength(s, maxLength.Value);
        return new MixerSpec(kind, null!, dim, causal, HiddenDim(arguments, checks),
            MaxLength: maxLength.Value.Value, FactorRank: rank?.Value ?? defaultRank, Window: window?.Value ?? 0);
    }

    static MixerSpec? Conv(string layer, AttributeArguments arguments, SizeChecks checks, List<DiagnosticInfo> diagnostics, Argument<int>? dim, bool causal)
    {
        var heads = arguments.Constructor<int>(AttributeNames.AftConv.Heads);
        var window = arguments.Constructor<int>(AttributeNames.AftConv.Window);
        if (heads is null || window is null)
            return null;
        checks.Positive(heads, AttributeNames.AftConv.Heads, "it is the number of heads h (K has h channels), e.g. heads: 32");
        checks.Positive(window, AttributeNames.AftConv.Window, "it is the kernel size s, e.g. window: 7");
        var layout = arguments.Named<int>(AttributeNames.AftConv.Layout);
        var grid = (layout?.Value ?? 0) == 0;
        var height = arguments.Named<int>(AttributeNames.AftConv.GridHeight);
        var width = arguments.Named<int>(AttributeNames.AftConv.GridWidth);
        checks.Positive(height, AttributeNames.AftConv.GridHeight, "it fixes the grid's height; leave it out to accept any grid");
        checks.Positive(width, AttributeNames.AftConv.GridWidth, "it fixes the grid's width; leave it out to accept any grid");
        var causalArgument = arguments.Named<bool>(AttributeNames.Mixer.Causal);
        if (grid)
        {
            if (window.Value.Value > 0 && window.Value.Value % 2 == 0)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.EvenGridWindow, window.Value.Location, layer, window.Value.Value, window.Value.Value - 1, window.Value.Value + 1));
            if (causal && causalArgument is { } c)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.CausalGrid, c.Location, layer));
            if ((height is null) != (width is null))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.HalfFixedGrid, (height ?? width)!.Value.Location, layer, height is null ? AttributeNames.AftConv.GridHeight : AttributeNames.AftConv.GridWidth, height is null ? AttributeNames.AftConv.GridWidth : AttributeNames.AftConv.GridHeight));
        }
        else if ((height ?? width) is { } fixedOnSequence)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.GridSizeOnSequence, fixedOnSequence.Location, layer));
        }
        if (dim is { Value: > 0 } d && heads.Value.Value > 0)
            checks.HeadsDivideDim(heads.Value, d);
        // Every combination with the other options is valid: both kernels and both connectivities run on every path.
        var reparameterise = arguments.Named<bool>(AttributeNames.AftConv.Reparameterise)?.Value ?? true;
        var windowConnectivity = (arguments.Named<int>(AttributeNames.AftConv.Connectivity)?.Value ?? 0) != 0;   // as Layout: 0 is the default
        return new MixerSpec(MixerKind.Conv, null!, dim?.Value, causal, null, Window: window.Value.Value, Heads: heads.Value.Value,
            Grid: grid, GridHeight: height?.Value ?? 0, GridWidth: width?.Value ?? 0, Reparameterise: reparameterise, WindowConnectivity: windowConnectivity);
    }

    static MixerSpec? Attention(AttributeArguments arguments, SizeChecks checks, Argument<int>? dim, bool causal)
    {
        var heads = arguments.Constructor<int>(AttributeNames.MultiHeadAttention.Heads);
        if (heads is null)
            return null;
        checks.Positive(heads, AttributeNames.MultiHeadAttention.Heads, "it is the number of attention heads, e.g. heads: 8");
        if (dim is { Value: > 0 } d && heads.Value.Value > 0)
            checks.HeadsDivideDim(heads.Value, d);
        return new MixerSpec(MixerKind.Attention, null!, dim?.Value, causal, null, Heads: heads.Value.Value);
    }

    static int? HiddenDim(AttributeArguments arguments, SizeChecks checks)
    {
        var hidden = arguments.Named<int>(AttributeNames.Projected.HiddenDim);
        checks.Positive(hidden, AttributeNames.Projected.HiddenDim, "it is the width of Q, K and V, e.g. HiddenDim = 256; leave it out to use Dim");
        return hidden?.Value;
    }

    static ParseResult<MixerSpec> Result(MixerSpec? spec, List<DiagnosticInfo> diagnostics) => new(spec, diagnostics.ToEquatableArray());
}
