using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Diagnostics;

/// <summary>
/// The diagnostic catalogue. IDs are stable: never reuse or renumber one. AFT00xx concern the
/// declaring class, AFT01xx the sizes of a layer, AFT9xxx the generator itself. Each help link
/// points at the README's Diagnostics section, which lists the mistake and its fix.
/// </summary>
internal static class Descriptors
{
    const string Category = "AftDsl";
    const string HelpRoot = "https://github.com/aftdsl/aftdsl/blob/main/README.md#";

    static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + id.ToLowerInvariant());

    /// <summary>{0} layer, {1} class name, {2} the type that is not partial.</summary>
    public static readonly DiagnosticDescriptor NotPartial = Error("AFT0001",
        "Layer class must be partial",
        "{0}: '{1}' must be declared partial, because AftDsl generates the rest of it; add 'partial' to the declaration of '{1}'");

    /// <summary>{0} layer, {1} the generic type.</summary>
    public static readonly DiagnosticDescriptor Generic = Error("AFT0002",
        "Layer class cannot be generic or nested in a generic type",
        "{0}: '{1}' is generic; a layer's sizes are constants, so declare the layer in a non-generic class");

    /// <summary>{0} layer, {1} class name, {2} the declared base type.</summary>
    public static readonly DiagnosticDescriptor HasBaseType = Error("AFT0004",
        "Layer class cannot declare a base class",
        "{0}: '{1}' derives from '{2}', but the generated part makes it a torch.nn.Module<Tensor, Tensor>; remove the base class (interfaces are fine)");

    /// <summary>{0} layer, {1} class name.</summary>
    public static readonly DiagnosticDescriptor Static = Error("AFT0005",
        "Layer class cannot be static",
        "{0}: '{1}' is static, but a layer is a module that is instantiated; remove 'static'");

    /// <summary>{0} layer, {1} argument name, {2} value, {3} what the size means and a typical value.</summary>
    public static readonly DiagnosticDescriptor NotPositive = Error("AFT0101",
        "Size must be positive",
        "{0}: {1} must be positive, got {2}; {3}");

    /// <summary>{0} layer, {1} rank (and whether it is the default), {2} maxLength.</summary>
    public static readonly DiagnosticDescriptor FactorRankAboveMaxLength = Error("AFT0102",
        "Factor rank cannot exceed maxLength",
        "{0}: FactorRank ({1}) must be at most maxLength ({2}): w = U·Wᵀ with U, W of shape [maxLength, FactorRank] has rank at most maxLength; use a FactorRank between 1 and {2}");

    /// <summary>{0} class name, {1} exception type, {2} message.</summary>
    public static readonly DiagnosticDescriptor GeneratorFailure = new("AFT9001",
        "AftDsl generator failed",
        "AftDsl could not generate '{0}': {1}: {2}. This is a bug in AftDsl; please report it with the declaration.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + "aft9001");
}
