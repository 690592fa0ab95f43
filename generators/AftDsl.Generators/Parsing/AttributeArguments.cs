using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators.Parsing;

/// <summary>An attribute argument's value and the source span a diagnostic about it should underline.</summary>
internal readonly record struct Argument<T>(T Value, Location Location);

/// <summary>
/// Reads an attribute's arguments by name, whatever their order or form (positional,
/// <c>name:</c> or <c>Name =</c>), together with the location of each argument in the source.
/// </summary>
internal sealed class AttributeArguments(AttributeData data)
{
    readonly AttributeSyntax? syntax = data.ApplicationSyntaxReference?.GetSyntax() as AttributeSyntax;

    /// <summary>The whole attribute, for diagnostics that concern no single argument.</summary>
    public Location Location => syntax?.GetLocation() ?? Location.None;

    /// <summary>True when the compiler could not bind some argument: it reports that error itself.</summary>
    public bool HasErrors =>
        data.AttributeConstructor is null
        || data.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error)
        || data.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error);

    /// <summary>A constructor argument, found by parameter name.</summary>
    public Argument<T>? Constructor<T>(string parameter)
    {
        var parameters = data.AttributeConstructor?.Parameters ?? default;
        if (parameters.IsDefault) return null;
        var index = -1;
        for (var i = 0; i < parameters.Length; i++)
            if (parameters[i].Name == parameter) index = i;
        if (index < 0 || index >= data.ConstructorArguments.Length) return null;
        return data.ConstructorArguments[index].Value is T value ? new Argument<T>(value, ConstructorArgumentLocation(parameter, index)) : null;
    }

    /// <summary>A constructor argument as written in C# (<c>typeof(int[])</c>, <c>null</c>), whatever its type, or null when absent.</summary>
    public Argument<string>? ConstructorText(string parameter)
    {
        var parameters = data.AttributeConstructor?.Parameters ?? default;
        if (parameters.IsDefault) return null;
        for (var i = 0; i < parameters.Length && i < data.ConstructorArguments.Length; i++)
            if (parameters[i].Name == parameter)
                return new Argument<string>(data.ConstructorArguments[i].ToCSharpString(), ConstructorArgumentLocation(parameter, i));
        return null;
    }

    /// <summary>A named property argument (<c>Name = value</c>), or null when it was not written.</summary>
    public Argument<T>? Named<T>(string property)
    {
        foreach (var pair in data.NamedArguments)
            if (pair.Key == property && pair.Value.Value is T value)
                return new Argument<T>(value, NamedArgumentLocation(property));
        return null;
    }

    Location ConstructorArgumentLocation(string parameter, int index)
    {
        if (syntax?.ArgumentList is null) return Location;
        var position = 0;
        foreach (var argument in syntax.ArgumentList.Arguments)
        {
            if (argument.NameEquals is not null) continue;
            if (argument.NameColon is { } name ? name.Name.Identifier.ValueText == parameter : position == index)
                return argument.GetLocation();
            position++;
        }
        return Location;
    }

    Location NamedArgumentLocation(string property) =>
        syntax?.ArgumentList?.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == property)?.GetLocation() ?? Location;
}
