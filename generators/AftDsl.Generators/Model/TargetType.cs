namespace AftDsl.Generators.Model;

/// <summary>A type that encloses the layer class: emitted again as a partial wrapper.</summary>
/// <param name="Keyword">The declaration keyword(s): <c>class</c>, <c>struct</c>, <c>record</c>, <c>record struct</c>.</param>
/// <param name="TypeParameters">Its type parameter list as a partial part repeats it (<c>&lt;T&gt;</c>), or empty.</param>
internal sealed record ContainingType(string Keyword, string Name, string TypeParameters = "")
{
    public string Identifier => Identifiers.Escape(Name);
}

/// <summary>Where the generated part goes: namespace, enclosing types, class name.</summary>
/// <param name="Namespace">Empty for the global namespace.</param>
/// <param name="TypeParameters">
/// The class's type parameter list (<c>&lt;T&gt;</c>), or empty. Only a skeleton has one: a generic layer or model is
/// an error (AFT0002), but its skeleton keeps the code that uses it compiling.
/// </param>
internal sealed record TargetType(string Namespace, EquatableArray<ContainingType> Containers, string Name, string TypeParameters = "")
{
    /// <summary>Unique per type in a compilation, with names as written without '@'.</summary>
    public string QualifiedName =>
        string.Join(".", new[] { Namespace }.Where(n => n.Length > 0).Concat(Containers.Select(c => c.Name)).Concat(new[] { Name }));

    /// <summary>The class name as C# source: <c>@class</c> for a keyword.</summary>
    public string Identifier => Identifiers.Escape(Name);

    /// <summary>The generated file's name (without the extension): <see cref="QualifiedName"/>, safe for every host.</summary>
    public string HintName => Identifiers.HintName(QualifiedName + ArityTag);

    // G<T> beside G: the type parameter counts keep their files apart ("G-1").
    string ArityTag =>
        Containers.Select(c => c.TypeParameters).Append(TypeParameters).Any(t => t.Length > 0)
            ? "-" + string.Join("-", Containers.Select(c => Arity(c.TypeParameters)).Append(Arity(TypeParameters)))
            : "";

    static int Arity(string typeParameters) => typeParameters.Length == 0 ? 0 : typeParameters.Count(c => c == ',') + 1;
}
