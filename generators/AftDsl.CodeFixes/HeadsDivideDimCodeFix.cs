using System.Collections.Immutable;
using System.Composition;
using AftDsl.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.CodeFixes;

/// <summary>
/// AFT0201, heads not dividing the width. On a layer's own <c>heads</c> argument: offers the head counts
/// nearest to the one written that divide Dim, and the widths nearest to Dim that the heads divide. On a
/// model's <c>[Blocks(mixer: typeof(M))]</c>, where the model binds M's width: offers the nearest head counts,
/// written into M's declaration (in whichever file declares it).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(HeadsDivideDimCodeFix)), Shared]
public sealed class HeadsDivideDimCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ["AFT0201"];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (Read(diagnostic, FixProperties.Heads) is not { } heads || Read(diagnostic, FixProperties.Dim) is not { } dim || heads <= 0 || dim <= 0)
            return;
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span) is not AttributeArgumentSyntax argument || argument.Parent?.Parent is not AttributeSyntax attribute)
            return;

        if (argument.Expression is TypeOfExpressionSyntax mixerType)
            await OfferHeadsOfBoundMixer(context, mixerType, heads, dim).ConfigureAwait(false);
        else
            OfferHeadsOrDimOfLayer(context, root, attribute, argument, heads, dim);
    }

    static void OfferHeadsOrDimOfLayer(CodeFixContext context, SyntaxNode root, AttributeSyntax attribute, AttributeArgumentSyntax headsArgument, int heads, int dim)
    {
        foreach (var candidate in NearestHeads(heads, dim))
            context.RegisterCodeFix(
                CodeAction.Create($"Use {candidate} heads (divides Dim = {dim})",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(headsArgument, AttributeArgumentEdits.WithValue(headsArgument, candidate)))),
                    equivalenceKey: $"AFT0201.heads.{candidate}"),
                context.Diagnostics);
        if (AttributeArgumentEdits.Find(attribute, AttributeNames.Mixer.Dim) is not { } dimArgument)
            return;
        foreach (var candidate in NearestDims(heads, dim))
            context.RegisterCodeFix(
                CodeAction.Create($"Use Dim = {candidate} (divisible by {heads} heads)",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(dimArgument, AttributeArgumentEdits.WithValue(dimArgument, candidate)))),
                    equivalenceKey: $"AFT0201.dim.{candidate}"),
                context.Diagnostics);
    }

    static async Task OfferHeadsOfBoundMixer(CodeFixContext context, TypeOfExpressionSyntax mixerType, int heads, int dim)
    {
        var semantics = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (semantics?.GetTypeInfo(mixerType.Type, context.CancellationToken).Type is not INamedTypeSymbol mixer)
            return;
        // The mixer's layer attribute is the one with a heads argument ([AftConv] or [MultiHeadAttention]).
        var declarations = mixer.GetAttributes().Select(a => a.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken)).OfType<AttributeSyntax>();
        var (attribute, headsArgument) = declarations.Select(a => (a, AttributeArgumentEdits.Find(a, AttributeNames.AftConv.Heads) ?? a.ArgumentList?.Arguments.FirstOrDefault()))
            .FirstOrDefault(pair => AttributeArgumentEdits.Value(pair.Item2) == heads);
        var solution = context.Document.Project.Solution;
        if (headsArgument is null || solution.GetDocument(attribute.SyntaxTree) is not { } declaring)
            return;

        foreach (var candidate in NearestHeads(heads, dim))
            context.RegisterCodeFix(
                CodeAction.Create($"Use {candidate} heads in {mixer.Name} (divides the model's width {dim})",
                    async cancellation =>
                    {
                        var declaringRoot = await declaring.GetSyntaxRootAsync(cancellation).ConfigureAwait(false);
                        return solution.WithDocumentSyntaxRoot(declaring.Id, declaringRoot!.ReplaceNode(headsArgument, AttributeArgumentEdits.WithValue(headsArgument, candidate)));
                    },
                    equivalenceKey: $"AFT0201.bound-heads.{candidate}"),
                context.Diagnostics);
    }

    static int? Read(Diagnostic diagnostic, string key) =>
        diagnostic.Properties.TryGetValue(key, out var text) && int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>The divisors of <paramref name="dim"/> closest to <paramref name="heads"/>: the nearest below and above.</summary>
    public static IEnumerable<int> NearestHeads(int heads, int dim)
    {
        // Divisors in pairs up to √dim: counting up to dim would stall the light bulb for a width near int.MaxValue.
        var divisors = new List<int>();
        for (var d = 1; (long)d * d <= dim; d++)
            if (dim % d == 0)
                divisors.AddRange(d == dim / d ? [d] : [d, dim / d]);
        var below = divisors.Where(d => d < heads).DefaultIfEmpty(0).Max();
        var above = divisors.Where(d => d > heads).DefaultIfEmpty(0).Min();
        return new[] { below, above }.Where(d => d > 0);
    }

    /// <summary>The multiples of <paramref name="heads"/> closest to <paramref name="dim"/>, below and above.</summary>
    public static IEnumerable<int> NearestDims(int heads, int dim)
    {
        var below = (long)dim / heads * heads;
        return new[] { below, below + heads }.Where(d => d > 0 && d != dim && d <= int.MaxValue).Select(d => (int)d);
    }
}
