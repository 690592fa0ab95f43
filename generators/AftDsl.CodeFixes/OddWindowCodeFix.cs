using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.CodeFixes;

/// <summary>AFT0202: an even window on a 2-d grid becomes the odd window just below or just above it.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(OddWindowCodeFix)), Shared]
public sealed class OddWindowCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ["AFT0202"];

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span) is not AttributeArgumentSyntax argument || AttributeArgumentEdits.Value(argument) is not { } window)
            return;
        foreach (var odd in new[] { window - 1, window + 1 }.Where(w => w > 0))
            context.RegisterCodeFix(
                CodeAction.Create($"Use window: {odd}",
                    _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(argument, AttributeArgumentEdits.WithValue(argument, odd)))),
                    equivalenceKey: $"AFT0202.{odd - window}"),
                context.Diagnostics);
    }
}
