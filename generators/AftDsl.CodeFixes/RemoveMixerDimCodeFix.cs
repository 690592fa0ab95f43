using System.Collections.Immutable;
using System.Composition;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.CodeFixes;

/// <summary>
/// AFT0303: a mixer whose own Dim disagrees with the width its model gives it loses its Dim, so that the model
/// binds the width. The mixer's Dim is one of the diagnostic's additional locations, possibly in another file.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveMixerDimCodeFix)), Shared]
public sealed class RemoveMixerDimCodeFix : CodeFixProvider
{
    public override ImmutableArray<string> FixableDiagnosticIds => ["AFT0303"];

    // The fix edits the mixer's declaration, which several diagnostics may share: one at a time.
    public override FixAllProvider? GetFixAllProvider() => null;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        var solution = context.Document.Project.Solution;
        foreach (var location in diagnostic.AdditionalLocations)
        {
            if (location.SourceTree is not { } tree || solution.GetDocument(tree) is not { } document)
                continue;
            var root = await tree.GetRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root.FindNode(location.SourceSpan) is not AttributeArgumentSyntax { NameEquals.Name.Identifier.ValueText: AttributeNames.Mixer.Dim, Parent: AttributeArgumentListSyntax list } dim
                || list.Parent?.Parent?.Parent is not ClassDeclarationSyntax mixer)
                continue;
            context.RegisterCodeFix(
                CodeAction.Create($"Remove {dim} from {mixer.Identifier.ValueText} (the model binds its width)",
                    _ => Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(list, list.WithArguments(list.Arguments.Remove(dim))))
                        .Project.Solution),
                    equivalenceKey: "AFT0303.RemoveDim"),
                diagnostic);
            return;
        }
    }
}
