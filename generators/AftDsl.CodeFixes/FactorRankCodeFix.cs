using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
using AftDsl.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.CodeFixes;

/// <summary>
/// AFT0102: a FactorRank above maxLength becomes maxLength (the largest rank w = U·Wᵀ can have), or is removed,
/// which gives the default min(128, maxLength).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(FactorRankCodeFix)), Shared]
public sealed class FactorRankCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ["AFT0102"];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span) is not AttributeArgumentSyntax { Parent: AttributeArgumentListSyntax list } argument
            || !diagnostic.Properties.TryGetValue(FixProperties.MaxLength, out var text)
            || !int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var maxLength))
            return;
        context.RegisterCodeFix(
            CodeAction.Create($"Use FactorRank = {maxLength} (maxLength)",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(argument, AttributeArgumentEdits.WithValue(argument, maxLength)))),
                equivalenceKey: "AFT0102.MaxLength"),
            diagnostic);
        context.RegisterCodeFix(
            CodeAction.Create($"Remove FactorRank (the default is min({AttributeNames.PositionBias.DefaultFactorRank}, maxLength))",
                _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(list, list.WithArguments(list.Arguments.Remove(argument))))),
                equivalenceKey: "AFT0102.Default"),
            diagnostic);
    }
}
