namespace AftDsl.Generators.Model;

/// <summary>A type that encloses the layer class: emitted again as a partial wrapper.</summary>
/// <param name="Keyword">The declaration keyword(s): <c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c>.</param>
internal sealed record ContainingType(string Keyword, string Name)
{
    public string Identifier => Identifiers.Escape(Name);
}

/// <summary>Where the generated part goes: namespace, enclosing types, class name.</summary>
/// <param name="Namespace">Empty for the global namespace.</param>
internal sealed record TargetType(string Namespace, EquatableArray<ContainingType> Containers, string Name)
{
    /// <summary>Unique per type in a compilation, with names as written without '@'.</summary>
    public string QualifiedName =>
        string.Join(".", new[] { Namespace }.Where(n => n.Length > 0).Concat(Containers.Select(c => c.Name)).Concat(new[] { Name }));

    /// <summary>The class name as C# source: <c>@class</c> for a keyword.</summary>
    public string Identifier => Identifiers.Escape(Name);

    /// <summary>The generated file's name (without the extension): <see cref="QualifiedName"/>, safe for every host.</summary>
    public string HintName => Identifiers.HintName(QualifiedName);
}
