using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Diagnostics;

/// <summary>
/// The diagnostic catalogue. IDs are stable: never reuse or renumber one. AFT00xx concern the
/// declaring class, AFT01xx the sizes of a layer, AFT02xx AFT-conv's heads and grid, AFT9xxx the
/// generator itself. Each help link
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

    /// <summary>{0} layer, {1} class name, {2} the layer attribute that came first.</summary>
    public static readonly DiagnosticDescriptor DeclaredTwice = Error("AFT0003",
        "A class declares one layer",
        "{0}: '{1}' is already declared as {2} by an earlier attribute; a class is one layer, so declare this one on a class of its own");

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

    /// <summary>{0} layer, {1} window, {2} maxLength.</summary>
    public static readonly DiagnosticDescriptor WindowAboveMaxLength = Error("AFT0103",
        "Window cannot exceed maxLength",
        "{0}: window ({1}) must be at most maxLength ({2}): no two positions are {2} or more apart, so a window of {2} already covers the whole sequence (AFT-full); use a window between 1 and {2}");

    /// <summary>{0} layer, {1} heads, {2} dim, {3} the quotient, {4} valid head counts, {5} nearest valid dims.</summary>
    public static readonly DiagnosticDescriptor HeadsDoNotDivideDim = Error("AFT0201",
        "Heads must divide Dim",
        "{0}: heads ({1}) must divide dim ({2}): {2} / {1} = {3}. Valid head counts for dim {2}: {4}. Nearest dims divisible by {1}: {5}.");

    /// <summary>{0} layer, {1} window, {2} and {3} the odd neighbours.</summary>
    public static readonly DiagnosticDescriptor EvenGridWindow = Error("AFT0202",
        "A grid kernel needs an odd window",
        "{0}: window ({1}) is even, so a {1}×{1} kernel has no centre and \"same\" padding would shift the grid; use an odd window such as {2} or {3}");

    /// <summary>{0} layer.</summary>
    public static readonly DiagnosticDescriptor CausalGrid = Error("AFT0203",
        "Causal AFT-conv needs a sequence",
        "{0}: Causal = true needs an order of positions, which a 2-d grid does not have; set Layout = AftConvLayout.Sequence for a causal 1-d layer, or remove Causal");

    /// <summary>{0} layer, {1} the missing property, {2} the one given.</summary>
    public static readonly DiagnosticDescriptor HalfFixedGrid = Error("AFT0204",
        "Grid size needs both height and width",
        "{0}: {2} is set but {1} is not; set both to fix the grid, or neither to accept any grid");

    /// <summary>{0} layer.</summary>
    public static readonly DiagnosticDescriptor GridSizeOnSequence = Error("AFT0205",
        "Grid size on a sequence layer",
        "{0}: GridHeight and GridWidth apply to Layout = AftConvLayout.Grid, but this layer mixes a sequence; remove them, or use the grid layout");

    /// <summary>{0} class name, {1} exception type, {2} message.</summary>
    public static readonly DiagnosticDescriptor GeneratorFailure = new("AFT9001",
        "AftDsl generator failed",
        "AftDsl could not generate '{0}': {1}: {2}. This is a bug in AftDsl; please report it with the declaration.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + "aft9001");
}
