using System.Globalization;
using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators.Parsing;

/// <summary>Turns one <c>[AftFull(...)]</c> class into an <see cref="AftFullSpec"/> or diagnostics.</summary>
internal static class AftFullParser
{
    public const string AttributeName = "AftDsl.AftFullAttribute";
    const int DefaultFactorRank = 128;

    public static ParseResult<AftFullSpec> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetNode is not ClassDeclarationSyntax declaration || context.TargetSymbol is not INamedTypeSymbol symbol)
            return new(null, EquatableArray<DiagnosticInfo>.Empty);
        try
        {
            return Parse(declaration, symbol, context.Attributes[0]);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never let an exception escape into the compiler (CS8785): report it on the class instead.
            var failure = DiagnosticInfo.Create(Descriptors.GeneratorFailure, declaration.Identifier.GetLocation(), symbol.Name, e.GetType().Name, e.Message);
            return new(null, new[] { failure }.ToEquatableArray());
        }
    }

    static ParseResult<AftFullSpec> Parse(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol, AttributeData attribute)
    {
        var layer = $"AftFull '{symbol.Name}'";
        var diagnostics = new List<DiagnosticInfo>();
        var target = TargetTypeParser.Parse(declaration, symbol, layer, diagnostics);
        var arguments = new AttributeArguments(attribute);
        if (arguments.HasErrors)
            return new(null, diagnostics.ToEquatableArray());

        var maxLength = arguments.Constructor<int>("maxLength");
        var dim = arguments.Named<int>("Dim");
        var hiddenDim = arguments.Named<int>("HiddenDim");
        var factorRank = arguments.Named<int>("FactorRank");
        var causal = arguments.Named<bool>("Causal");
        if (maxLength is null)
            return new(null, diagnostics.ToEquatableArray());

        var sizes = new SizeChecks(layer, diagnostics);
        sizes.Positive(maxLength.Value, "maxLength", "it is the longest sequence T that forward accepts, e.g. maxLength: 1024");
        sizes.Positive(dim, "Dim", "it is the width of the features, e.g. Dim = 256; leave it out to pass the width to the constructor");
        sizes.Positive(hiddenDim, "HiddenDim", "it is the width of Q, K and V, e.g. HiddenDim = 256; leave it out to use Dim");
        sizes.Positive(factorRank, "FactorRank", $"it is the rank of the factorised position bias w = U·Wᵀ, e.g. FactorRank = {DefaultFactorRank}");
        var rank = factorRank?.Value ?? DefaultFactorRank;
        if (maxLength.Value.Value > 0 && rank > maxLength.Value.Value)
        {
            // A written FactorRank is the mistake; with the default, the short maxLength is.
            var (shown, location) = factorRank is { } written
                ? (written.Value.ToString(CultureInfo.InvariantCulture), written.Location)
                : ($"{rank}, the default", maxLength.Value.Location);
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.FactorRankAboveMaxLength, location, layer, shown, maxLength.Value.Value));
        }

        if (target is null || diagnostics.Count > 0)
            return new(null, diagnostics.ToEquatableArray());
        var spec = new AftFullSpec(target, maxLength.Value.Value, dim?.Value, causal?.Value ?? false, rank, hiddenDim?.Value);
        return new(spec, EquatableArray<DiagnosticInfo>.Empty);
    }
}
