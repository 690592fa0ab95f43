using System.Globalization;
using AftDsl.Generators.Diagnostics;
using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AftDsl.Generators.Parsing;

/// <summary>
/// Builds the skeleton of a declaration in error (see <see cref="SkeletonSpec"/>): the member set a valid layer of
/// its kind, or a valid model, would have, with the values written where they were read and 0 elsewhere. A member
/// the user declared is left out, so that the skeleton never adds a clash of its own.
/// </summary>
internal static class SkeletonBuilder
{
    public static SkeletonSpec Layer(MixerKind kind, TargetType target, string layer, INamedTypeSymbol symbol, AttributeArguments arguments,
        IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        var constants = new List<SkeletonConstant>();
        var members = new List<string>();
        int Read(string name, bool constructor) =>
            (constructor ? arguments.Constructor<int>(name) : arguments.Named<int>(name))?.Value ?? 0;
        void Long(string name, long value) => constants.Add(new SkeletonConstant("long", name, value.ToString(CultureInfo.InvariantCulture)));

        Text(constants, "LayerName", layer);
        Text(constants, "InputShape", "not generated");
        Text(constants, "OutputShape", "not generated");
        if (kind is MixerKind.Full or MixerKind.Local)
        {
            var maxLength = Read(AttributeNames.PositionBias.MaxLength, constructor: true);
            Long("MaxLength", maxLength);
            var defaultRank = Math.Min(AttributeNames.PositionBias.DefaultFactorRank, Math.Max(1, maxLength));
            Long("FactorRank", arguments.Named<int>(AttributeNames.PositionBias.FactorRank)?.Value ?? defaultRank);
        }
        if (kind is MixerKind.Local or MixerKind.Conv)
            Long("Window", Read(AttributeNames.AftLocal.Window, constructor: true));   // AftConv's is named alike
        var heads = kind is MixerKind.Conv or MixerKind.Attention;
        if (heads)
            Long("Heads", Read(AttributeNames.AftConv.Heads, constructor: true));   // MultiHeadAttention's is named alike
        constants.Add(new SkeletonConstant("bool", "Causal", arguments.Named<bool>(AttributeNames.Mixer.Causal)?.Value == true ? "true" : "false"));

        var constructors = new List<SkeletonConstructor>();
        if (arguments.Named<int>(AttributeNames.Mixer.Dim) is { } dim)
        {
            Long("Dim", dim.Value);
            if (!heads)
                Long("HiddenDim", arguments.Named<int>(AttributeNames.Projected.HiddenDim)?.Value ?? dim.Value);
            Long("ParameterCount", 0);
            constructors.Add(new SkeletonConstructor("", ""));
        }
        else
        {
            members.Add("public long Dim { get; }");
            if (!heads && arguments.Named<int>(AttributeNames.Projected.HiddenDim) is { } hidden)
                Long("HiddenDim", hidden.Value);
            else if (!heads)
                members.Add("public long HiddenDim => Dim;");
            constructors.Add(new SkeletonConstructor("long dim", "Dim = dim; "));
        }
        return Spec(target, layer, symbol, diagnostics, constants, members, constructors, [], null);
    }

    public static SkeletonSpec Model(TargetType target, string model, INamedTypeSymbol symbol, AttributeArguments arguments,
        IReadOnlyList<DiagnosticInfo> diagnostics)
    {
        var constants = new List<SkeletonConstant>();
        void Long(string name, long value) => constants.Add(new SkeletonConstant("long", name, value.ToString(CultureInfo.InvariantCulture)));
        Text(constants, "ModelName", model);
        Text(constants, "InputShape", "not generated");
        Text(constants, "OutputShape", "not generated");
        constants.Add(new SkeletonConstant("bool", "Causal", arguments.Named<bool>(AttributeNames.AftModel.Causal)?.Value == true ? "true" : "false"));
        var inputs = symbol.GetAttributes().Select(a => a.AttributeClass?.ToDisplayString()).ToList();
        if (inputs.Contains(AttributeNames.TokenInput.Type))
        {
            Long("Vocab", 0);
            Long("MaxLength", 0);
        }
        if (inputs.Contains(AttributeNames.ImageInput.Type))
            Long("Channels", 0);

        var stages = new List<SkeletonStage>();
        var display = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);
        foreach (var property in symbol.GetMembers().OfType<IPropertySymbol>())
        {
            if (!property.GetAttributes().Any(a => a.AttributeClass?.ContainingNamespace?.ToDisplayString() == "AftDsl" && IsStage(a.AttributeClass)))
                continue;
            if (property.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is not PropertyDeclarationSyntax syntax
                || !syntax.Modifiers.Any(SyntaxKind.PartialKeyword) || property.PartialImplementationPart is not null
                || property.Type.TypeKind == TypeKind.Error)
                continue;                                  // nothing to implement, or a type the compiler already reports
            var accessors = new List<string>();
            if (property.GetMethod is not null) accessors.Add("get");
            if (property.SetMethod is { } setter) accessors.Add(setter.IsInitOnly ? "init" : "set");
            var modifiers = string.Join(" ", syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword)).Select(m => m.Text));
            stages.Add(new SkeletonStage(modifiers, property.Type.ToDisplayString(display), syntax.Identifier.Text, accessors.ToEquatableArray()));
            Long(property.Name + "ParameterCount", 0);
        }
        Long("ParameterCount", 0);
        // The model's own error, or else the first error of a mixer it uses, which is why it could not be built.
        var mixerError = symbol.GetMembers().OfType<IPropertySymbol>()
            .SelectMany(p => p.GetAttributes()).Where(a => a.AttributeClass?.ToDisplayString() == AttributeNames.Blocks.Type)
            .Select(a => new AttributeArguments(a).Constructor<INamedTypeSymbol>(AttributeNames.Blocks.Mixer)?.Value)
            .Select(mixer => mixer is null ? null : MixerParser.FirstError(mixer) is { } error ? (Mixer: mixer.Name, Error: error) : default((string Mixer, DiagnosticInfo Error)?))
            .FirstOrDefault(found => found is not null);
        var fallback = mixerError is { } m ? $"{m.Error.Descriptor.Id} in its mixer '{m.Mixer}'" : null;
        return Spec(target, model, symbol, diagnostics, constants, [], [new SkeletonConstructor("", "")], stages, fallback);
    }

    static bool IsStage(INamedTypeSymbol? attribute)
    {
        for (var type = attribute; type is not null; type = type.BaseType)
            if (type.ToDisplayString() == AttributeNames.Stage)
                return true;
        return false;
    }

    static void Text(List<SkeletonConstant> constants, string name, string value) =>
        constants.Add(new SkeletonConstant("string", name, SymbolDisplay.FormatLiteral(value, quote: true)));

    static SkeletonSpec Spec(TargetType target, string name, INamedTypeSymbol symbol, IReadOnlyList<DiagnosticInfo> diagnostics,
        List<SkeletonConstant> constants, List<string> members, List<SkeletonConstructor> constructors, List<SkeletonStage> stages, string? fallback)
    {
        // What the user declared wins: a member of the same name or a constructor of the same parameters is not generated.
        // (The class's own name counts too: C# forbids a member named as its class, CS0542.)
        var declared = new HashSet<string>(symbol.GetMembers().Where(m => !m.IsImplicitlyDeclared && m is not IMethodSymbol { MethodKind: MethodKind.Constructor }).Select(m => m.Name))
        {
            symbol.Name,
        };
        var userConstructors = new HashSet<string>(symbol.InstanceConstructors.Where(c => !c.IsImplicitlyDeclared)
            .Select(c => string.Join(",", c.Parameters.Select(p => p.Type.SpecialType))));
        var error = diagnostics.FirstOrDefault(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
        var reason = error is null
            ? fallback ?? "an error the compiler reports"
            : $"{error.Descriptor.Id}: {error.ToDiagnostic().GetMessage(CultureInfo.InvariantCulture)}";
        // A static class can hold neither instance members nor constructors: only constants and stages remain. A class
        // with a base of its own keeps its instance members, but gets no constructor that calls a Module's.
        var instance = !symbol.IsStatic;
        var userBase = TargetTypeParser.UserBase(symbol) is not null;
        return new SkeletonSpec(target, name, reason,
            constants.Where(c => !declared.Contains(c.Name)).ToEquatableArray(),
            members.Where(m => instance && !declared.Contains(MemberName(m)))
                .Select(m => declared.Contains("Dim") ? m.Replace("=> Dim;", "=> 0;") : m).ToEquatableArray(),   // "Dim" is the user's, not ours
            constructors.Where(c => instance && !userBase && !userConstructors.Contains(c.Parameters.Length == 0 ? "" : nameof(SpecialType.System_Int64)))
                .Select(c => declared.Contains("Dim") ? c with { Body = "" } : c).ToEquatableArray(),
            stages.ToEquatableArray())
        {
            IsStatic = symbol.IsStatic,
            HasUserBase = userBase,
        };
    }

    // "public long Dim { get; }" → "Dim": the name is the word before the body.
    static string MemberName(string member) => member.Split(' ')[2];
}
