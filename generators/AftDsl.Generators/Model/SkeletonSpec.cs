namespace AftDsl.Generators.Model;

/// <summary>
/// A layer or model declared with errors, generated as a skeleton: the members, stage properties and constructors
/// a valid declaration would have, so that the user's code around it still compiles and the build shows only the
/// AFT diagnostics; its forward (and every stage) throws, naming the first diagnostic. Plain values only.
/// </summary>
/// <param name="DisplayName">How messages name it: <c>AftFull 'Mixer'</c>, <c>AftModel 'Lm'</c>.</param>
/// <param name="Reason">The first error, as <c>AFT0101: message</c>, or a sentence when only the compiler reports one.</param>
/// <param name="Members">Instance members written as they are (<c>public long Dim { get; }</c>).</param>
/// <param name="Constructors">Each constructor's parameter list (<c>""</c>, <c>"long dim"</c>) and the statement it runs.</param>
internal sealed record SkeletonSpec(
    TargetType Target,
    string DisplayName,
    string Reason,
    EquatableArray<SkeletonConstant> Constants,
    EquatableArray<string> Members,
    EquatableArray<SkeletonConstructor> Constructors,
    EquatableArray<SkeletonStage> Stages)
{
    /// <summary>
    /// Only the stage properties' parts: the class is generated as the layer an earlier attribute declares, and
    /// the stages it also carries need their implementing parts all the same (CS9248 otherwise).
    /// </summary>
    public bool StagesOnly { get; init; }

    /// <summary>
    /// The class is static (AFT0005): C# allows it no base class, constructor, override or instance member, so its
    /// skeleton has only the constants and the stage properties' parts (the compiler's own CS0708 on an instance stage
    /// of a static class stays: it is about the user's declaration, and no generated part can remove it).
    /// </summary>
    public bool IsStatic { get; init; }

    /// <summary>
    /// The class has a base class of its own (AFT0004): its skeleton names no base class (a part cannot name another),
    /// and has no constructors (the user's base may have no matching one) and no forward (it may have none to override).
    /// </summary>
    public bool HasUserBase { get; init; }

    /// <summary>The skeleton derives from <c>Module&lt;Tensor, Tensor&gt;</c> and has its constructors and forward.</summary>
    public bool IsModule => !IsStatic && !HasUserBase;

    /// <summary>The generated file's name: beside a layer's own file when <see cref="StagesOnly"/>.</summary>
    public string HintName => Target.HintName + (StagesOnly ? ".Stages" : "") + ".g.cs";

    /// <summary>What forward and the stages throw.</summary>
    public string Message => $"{DisplayName} was not generated because of {Reason}. Fix the declaration (the build reports it).";
}

/// <summary>A generated constant: its C# type, name and value as source.</summary>
internal sealed record SkeletonConstant(string Type, string Name, string Value);

/// <param name="Body">A statement such as <c>Dim = dim;</c>, or empty.</param>
internal sealed record SkeletonConstructor(string Parameters, string Body);

/// <summary>A stage property as the user declared it, to be given its implementing part.</summary>
/// <param name="Modifiers">The declaration's modifiers without <c>partial</c> (<c>public</c>, <c>internal static</c>).</param>
/// <param name="Accessors">Accessor keywords: <c>get</c>, and <c>set</c> or <c>init</c> where declared.</param>
internal sealed record SkeletonStage(string Modifiers, string Type, string Name, EquatableArray<string> Accessors);
