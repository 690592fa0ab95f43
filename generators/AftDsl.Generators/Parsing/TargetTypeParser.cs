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
        var noun = layerName.StartsWith("AftModel ", StringComparison.Ordinal) ? "model" : "layer";   // AFT0002, AFT0005
        if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, identifier, layerName, symbol.Name));
        // Generic, abstract, static or with a base class of its own, the class can still take a part: a skeleton then
        // keeps the code that uses it compiling (without the Module base class, constructors or forward where C#
        // forbids them: see SkeletonSpec.IsStatic and SkeletonSpec.HasUserBase).
        var blocking = diagnostics.Count > before;
        // A base class written on any part (the generated part's own base, Module<Tensor, Tensor>, is no mistake:
        // the analyzer sees it, and a user who writes the same base class conflicts with nothing).
        if (UserBase(symbol) is { } baseType && BaseListOf(declaration, symbol) is { } baseList)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HasBaseType, baseList.Types[0].GetLocation(),
                layerName, symbol.Name, baseType.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat)));
        if (declaration.Modifiers.Any(SyntaxKind.StaticKeyword))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.Static, identifier, layerName, symbol.Name, noun));
        if (declaration.Modifiers.Any(SyntaxKind.AbstractKeyword) || symbol.IsAbstract && !symbol.IsStatic)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.Abstract, identifier, layerName, symbol.Name));
        for (var type = symbol; type is not null; type = type.ContainingType)
            if (type.IsFileLocal)
            {
                var where = type.Equals(symbol, SymbolEqualityComparer.Default) ? identifier : type.Locations.FirstOrDefault() ?? identifier;
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.FileLocal, where, layerName, type.Name));
                blocking = true;
                break;
            }
        if (declaration.TypeParameterList is not null)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.Generic, identifier, layerName, symbol.Name, noun));

        var containers = new List<ContainingType>();
        for (var node = declaration.Parent; node is TypeDeclarationSyntax outer; node = outer.Parent)
        {
            var location = outer.Identifier.GetLocation();
            if (!outer.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPartial, location, layerName, outer.Identifier.ValueText));
                blocking = true;
            }
            if (outer.TypeParameterList is not null)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.Generic, location, layerName, outer.Identifier.ValueText, noun));
            containers.Insert(0, new ContainingType(Keyword(outer), outer.Identifier.ValueText, TypeParameters(outer.TypeParameterList)));
        }

        if (blocking)
            return null;
        var ns = Namespace(symbol);
        return new TargetType(ns, containers.ToEquatableArray(), symbol.Name, TypeParameters(declaration.TypeParameterList));
    }

    // The list as another partial part repeats it: names only (attributes and constraints stay on the user's part).
    static string TypeParameters(TypeParameterListSyntax? list) =>
        list is null ? "" : "<" + string.Join(", ", list.Parameters.Select(p => Identifiers.Escape(p.Identifier.ValueText))) + ">";

    /// <summary>AFT0007 on a record that carries a layer or model attribute: it can never be a module.</summary>
    public static DiagnosticInfo Record(RecordDeclarationSyntax record, INamedTypeSymbol symbol, string displayName) =>
        DiagnosticInfo.Create(Descriptors.Record, record.Identifier.GetLocation(), displayName, symbol.Name);

    /// <summary>The base class the user gave the class (AFT0004), or null: none, or the generated part's own.</summary>
    public static INamedTypeSymbol? UserBase(INamedTypeSymbol symbol) =>
        symbol.BaseType is { SpecialType: not SpecialType.System_Object, TypeKind: not TypeKind.Error } baseType
        && baseType.ToDisplayString() != "TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>"
            ? baseType
            : null;

    // The base list that names the base class: the attributed declaration's, or another part's written by the user.
    static BaseListSyntax? BaseListOf(ClassDeclarationSyntax declaration, INamedTypeSymbol symbol) =>
        declaration.BaseList ?? symbol.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax())
            .OfType<ClassDeclarationSyntax>()
            .Where(d => !GeneratedByAftDsl(d.SyntaxTree))
            .Select(d => d.BaseList)
            .FirstOrDefault(b => b is not null);

    /// <summary>A file the generator wrote (the analyzer sees them): its header says so.</summary>
    public static bool GeneratedByAftDsl(SyntaxTree tree)
    {
        var text = tree.GetText();
        return text.Length > 0 && text.ToString(new Microsoft.CodeAnalysis.Text.TextSpan(0, Math.Min(120, text.Length))).Contains("// Generated by AftDsl.");
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
