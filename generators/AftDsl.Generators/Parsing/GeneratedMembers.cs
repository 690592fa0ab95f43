using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Parsing;

/// <summary>
/// The names and constructors the generated part declares, checked against the user's own part (AFT0009): a
/// member of the same name, or a constructor of the same parameters, would otherwise be a compiler error inside
/// generated code (CS0102, CS0111), and a class named like one of its members is one too (CS0542).
/// </summary>
internal static class GeneratedMembers
{
    /// <summary>
    /// What a layer of <paramref name="kind"/> declares; <paramref name="dimBound"/> when Dim is a constant,
    /// <paramref name="decodes"/> when it gets the decoding members.
    /// </summary>
    public static IEnumerable<(string Name, string What)> Layer(MixerKind kind, bool dimBound, bool decodes)
    {
        if (decodes)
            foreach (var member in Decoding(model: false))
                yield return member;
        foreach (var name in new[] { "LayerName", "InputShape", "OutputShape", "Causal", "Dim", "forward" })
            yield return (name, Member(name));
        if (kind is MixerKind.Full or MixerKind.Local)
            foreach (var name in new[] { "MaxLength", "FactorRank", "pos_u", "pos_w" })
                yield return (name, Member(name));
        if (kind is MixerKind.Local or MixerKind.Conv)
            yield return ("Window", Member("Window"));
        if (kind is MixerKind.Conv or MixerKind.Attention)
            yield return ("Heads", Member("Heads"));
        else
            yield return ("HiddenDim", Member("HiddenDim"));
        if (kind == MixerKind.Conv)
            foreach (var name in new[] { "pos_w", "pos_gamma", "pos_beta" })
                yield return (name, Member(name));
        if (dimBound)
            yield return ("ParameterCount", Member("ParameterCount"));
        foreach (var name in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            yield return (name, "the field " + name);
        if (kind != MixerKind.Attention)
            yield return ("MixingFunction", "the nested class MixingFunction (the layer's autograd function)");
    }

    /// <summary>What a model declares besides its stage properties: constants, the stages' fields, forward.</summary>
    public static IEnumerable<(string Name, string What)> Model(IEnumerable<(string Property, string Field)> stages)
    {
        foreach (var name in new[] { "ModelName", "InputShape", "OutputShape", "Causal", "Vocab", "MaxLength", "Channels", "Dim", "ParameterCount", "forward" })
            yield return (name, Member(name));
        foreach (var (property, field) in stages)
        {
            yield return (property + "ParameterCount", Member(property + "ParameterCount"));
            if (field != property)
                yield return (field, $"the field {field} behind stage {property}");
        }
    }

    /// <summary>The decoding members of a causal layer or model (<see cref="MixerSpec.Decodes"/>, <see cref="ModelSpec.Decodes"/>).</summary>
    public static IEnumerable<(string Name, string What)> Decoding(bool model) =>
        (model ? new[] { "BeginDecoding", "Step", "MaxDecodingLength" } : ["BeginDecoding", "Step"]).Select(name => (name, Member(name)));

    static string Member(string name) => $"the generated member {name}";

    /// <summary>
    /// AFT0009 on each user member named like a generated one (stage properties, which the part implements, are
    /// not), on a user constructor with the parameters of the generated one, and on a class named like a member.
    /// </summary>
    public static void Check(INamedTypeSymbol symbol, string displayName, IEnumerable<(string Name, string What)> generated,
        IReadOnlyList<SpecialType> constructor, ISet<string> stageProperties, List<DiagnosticInfo> diagnostics)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, what) in generated)
            names[name] = what;
        foreach (var member in symbol.GetMembers())
        {
            if (member.IsImplicitlyDeclared || stageProperties.Contains(member.Name) || !InUserSource(member))
                continue;
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor } ctor)
            {
                if (!ctor.IsStatic && ctor.Parameters.Select(p => p.Type.SpecialType).SequenceEqual(constructor))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.MemberTaken, ctor.Locations.FirstOrDefault(), displayName,
                        $"{symbol.Name}({string.Join(", ", ctor.Parameters.Select(p => p.Type.ToDisplayString()))})", "the constructor"));
                continue;
            }
            if (member is INamedTypeSymbol or IFieldSymbol or IPropertySymbol or IMethodSymbol or IEventSymbol && names.TryGetValue(member.Name, out var taken))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.MemberTaken, member.Locations.FirstOrDefault(), displayName, member.Name, taken));
        }
        if (names.TryGetValue(symbol.Name, out var clash))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.MemberTaken, symbol.Locations.FirstOrDefault(), displayName, symbol.Name,
                clash + " (a class cannot contain a member of its own name)"));
    }

    // The analyzer sees the generated part too: only what the user wrote counts.
    static bool InUserSource(ISymbol member) =>
        member.Locations.Any(l => l.IsInSource && !TargetTypeParser.GeneratedByAftDsl(l.SourceTree!));
}
