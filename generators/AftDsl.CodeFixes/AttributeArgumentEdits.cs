using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.CodeFixes;

/// <summary>Reads and rewrites integer arguments of an attribute, by name, whatever their form.</summary>
internal static class AttributeArgumentEdits
{
    /// <summary>The argument that names <paramref name="name"/> (<c>name:</c> or <c>Name =</c>), or null.</summary>
    public static AttributeArgumentSyntax? Find(AttributeSyntax attribute, string name) =>
        attribute.ArgumentList?.Arguments.FirstOrDefault(a =>
            a.NameColon?.Name.Identifier.ValueText == name || a.NameEquals?.Name.Identifier.ValueText == name);

    /// <summary>The literal integer an argument holds, or null when it is not a literal.</summary>
    public static int? Value(AttributeArgumentSyntax? argument) =>
        argument?.Expression is LiteralExpressionSyntax { Token.Value: int value } ? value : null;

    /// <summary>The argument with its value replaced, keeping its name and trivia.</summary>
    public static AttributeArgumentSyntax WithValue(AttributeArgumentSyntax argument, int value) =>
        argument.WithExpression(SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value))
            .WithTriviaFrom(argument.Expression));

    /// <summary>The attribute with <c>Name = value</c> appended as a named argument.</summary>
    public static AttributeSyntax WithNamed(AttributeSyntax attribute, string name, int value)
    {
        var argument = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName(name)), null,
            SyntaxFactory.LiteralExpression(SyntaxKind.NumericLiteralExpression, SyntaxFactory.Literal(value)));
        var list = attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList();
        return attribute.WithArgumentList(list.AddArguments(argument));
    }
}
