using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Parsing;

/// <summary>
/// The attributes that make the generator write a class (the layer attributes and <c>[AftModel]</c>). A class
/// takes one: the first, by file and position, is generated; every other one is reported (AFT0003), so that
/// two outputs never claim the same file name.
/// </summary>
internal static class GeneratingAttributes
{
    static bool Generates(INamedTypeSymbol type)
    {
        var name = type.ToDisplayString();
        return name == ModelParser.AttributeName || MixerParser.Attributes.Any(known => known.MetadataName == name);
    }

    /// <summary>The name of the generating attribute that precedes <paramref name="attribute"/> on the class, or null when it is the first.</summary>
    public static string? DeclaredEarlier(INamedTypeSymbol symbol, AttributeData attribute)
    {
        var generating = symbol.GetAttributes()
            .Where(a => a.AttributeClass is { } type && Generates(type))
            .Select(a => (Attribute: a, Syntax: a.ApplicationSyntaxReference))
            .Where(a => a.Syntax is not null)
            .OrderBy(a => a.Syntax!.SyntaxTree.FilePath, StringComparer.Ordinal)
            .ThenBy(a => a.Syntax!.Span.Start)
            .ToList();
        if (generating.Count < 2 || attribute.ApplicationSyntaxReference is not { } self)
            return null;
        var first = generating[0].Syntax!;
        var isFirst = first.SyntaxTree == self.SyntaxTree && first.Span == self.Span;
        return isFirst ? null : generating[0].Attribute.AttributeClass!.Name.Replace("Attribute", "");
    }
}
