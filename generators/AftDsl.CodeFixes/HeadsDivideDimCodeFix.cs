using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.CodeFixes;

/// <summary>
/// AFT0201 on a layer's own <c>heads</c> argument: offers the head counts nearest to the one written that
/// divide Dim, and the widths nearest to Dim that the heads divide.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(HeadsDivideDimCodeFix)), Shared]
public sealed class HeadsDivideDimCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ["AFT0201"];

    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var argument = root?.FindNode(context.Span) as AttributeArgumentSyntax;
        if (root is null || argument?.Parent?.Parent is not AttributeSyntax attribute)
            return;
        var headsArgument = AttributeArgumentEdits.Find(attribute, "heads") ?? attribute.ArgumentList?.Arguments.FirstOrDefault();
        var dimArgument = AttributeArgumentEdits.Find(attribute, "Dim");
        if (headsArgument != argument || AttributeArgumentEdits.Value(headsArgument) is not { } heads || AttributeArgumentEdits.Value(dimArgument) is not { } dim || heads <= 0 || dim <= 0)
            return;

        foreach (var candidate in NearestHeads(heads, dim))
            context.RegisterCodeFix(
                CodeAction.Create($"Use {candidate} heads (divides Dim = {dim})",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(headsArgument, AttributeArgumentEdits.WithValue(headsArgument, candidate)))),
                    equivalenceKey: $"AFT0201.heads.{candidate}"),
                context.Diagnostics);
        foreach (var candidate in NearestDims(heads, dim))
            context.RegisterCodeFix(
                CodeAction.Create($"Use Dim = {candidate} (divisible by {heads} heads)",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(dimArgument!, AttributeArgumentEdits.WithValue(dimArgument!, candidate)))),
                    equivalenceKey: $"AFT0201.dim.{candidate}"),
                context.Diagnostics);
    }

    /// <summary>The divisors of <paramref name="dim"/> closest to <paramref name="heads"/>: the nearest below and above.</summary>
    public static IEnumerable<int> NearestHeads(int heads, int dim)
    {
        var divisors = Enumerable.Range(1, dim).Where(d => dim % d == 0).ToList();
        var below = divisors.Where(d => d < heads).DefaultIfEmpty(0).Max();
        var above = divisors.Where(d => d > heads).DefaultIfEmpty(0).Min();
        return new[] { below, above }.Where(d => d > 0);
    }

    /// <summary>The multiples of <paramref name="heads"/> closest to <paramref name="dim"/>, below and above.</summary>
    public static IEnumerable<int> NearestDims(int heads, int dim)
    {
        var below = dim / heads * heads;
        return new[] { below, below + heads }.Where(d => d > 0 && d != dim);
    }
}
