using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators.Parsing;

/// <summary>
/// Checks that an attributed class can receive a generated part (partial, not generic, not static,
/// no base class, enclosing types partial too) and records where that part goes.
/// </summary>
internal static class TargetTypeParser
{
    public static TargetType? Parse(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol, string layerName, List<DiagnosticInfo> diagnostics)
    {
        var before = diagnostics.Count;
        var identifier = declaration.Identifier.GetLocation();
        if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, identifier, layerName, symbol.Name));
        if (declaration.Modifiers.Any(SyntaxKind.StaticKeyword))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.Static, identifier, layerName, symbol.Name));
        if (symbol.BaseType is { SpecialType: not SpecialType.System_Object, TypeKind: not TypeKind.Error } baseType
            && declaration.BaseList is not null)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HasBaseType, declaration.BaseList.Types[0].GetLocation(),
                layerName, symbol.Name, baseType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
        if (declaration.TypeParameterList is not null)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.Generic, identifier, layerName, symbol.Name));

        var containers = new List<ContainingType>();
        for (var node = declaration.Parent; node is TypeDeclarationSyntax outer; node = outer.Parent)
        {
            var location = outer.Identifier.GetLocation();
            if (!outer.Modifiers.Any(SyntaxKind.PartialKeyword))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, location, layerName, outer.Identifier.ValueText));
            if (outer.TypeParameterList is not null)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.Generic, location, layerName, outer.Identifier.ValueText));
            containers.Insert(0, new ContainingType(Keyword(outer), outer.Identifier.ValueText));
        }

        if (diagnostics.Count > before)
            return null;
        var ns = Namespace(symbol);
        return new TargetType(ns, containers.ToEquatableArray(), symbol.Name);
    }

    /// <summary>A layer compiled into a referenced assembly: its own build checked the declaration.</summary>
    public static TargetType FromMetadata(INamedTypeSymbol symbol)
    {
        var containers = new List<ContainingType>();
        for (var outer = symbol.ContainingType; outer is not null; outer = outer.ContainingType)
            containers.Insert(0, new ContainingType(outer.IsRecord ? "record" : outer.TypeKind == TypeKind.Struct ? "struct" : "class", outer.Name));
        var ns = Namespace(symbol);
        return new TargetType(ns, containers.ToEquatableArray(), symbol.Name);
    }

    // The namespace's names as declared, without '@' (ToDisplayString escapes keywords, which a hint name cannot hold).
    static string Namespace(INamedTypeSymbol symbol)
    {
        var parts = new List<string>();
        for (var ns = symbol.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace)
            parts.Insert(0, ns.Name);
        return string.Join(".", parts);
    }

    static string Keyword(TypeDeclarationSyntax type) => type switch
    {
        RecordDeclarationSyntax record => record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
        _ => type.Keyword.ValueText,
    };
}
