using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Diagnostics;

/// <summary>
/// The diagnostic catalogue. IDs are stable: never reuse or renumber one. AFT00xx concern the
/// declaring class, AFT01xx the sizes of a layer, AFT02xx heads and grids, AFT03xx the edges of a
/// model, AFT04xx relations only run time can decide (warnings, checked again by the generated
/// forward with the same ID and wording), AFT9xxx the generator itself. Each help link
/// points at its section of docs/diagnostics.md, which shows the mistake and its fix.
/// </summary>
internal static class Descriptors
{
    const string Category = "AftDsl";

    /// <summary>
    /// Every descriptor of the catalogue, which the analyzer declares as supported: read from the fields, so none is
    /// forgotten; lazy, because static fields initialise in textual order and the descriptors come below.
    /// </summary>
    public static ImmutableArray<DiagnosticDescriptor> All => all.Value;

    static readonly Lazy<ImmutableArray<DiagnosticDescriptor>> all = new(() =>
        typeof(Descriptors).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToImmutableArray());
    const string HelpRoot = "https://github.com/aftdsl/aftdsl/blob/main/docs/diagnostics.md#";

    static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + id.ToLowerInvariant());

    static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpRoot + id.ToLowerInvariant());

    /// <summary>{0} layer, {1} class name, {2} the type that is not partial.</summary>
    public static readonly DiagnosticDescriptor NotPartial = Error("AFT0001",
        "Layer class must be partial",
        "{0}: '{1}' must be declared partial, because AftDsl generates the rest of it; add 'partial' to the declaration of '{1}'");

    /// <summary>{0} layer or model, {1} the generic type, {2} "layer" or "model".</summary>
    public static readonly DiagnosticDescriptor Generic = Error("AFT0002",
        "Layer or model class cannot be generic or nested in a generic type",
        "{0}: '{1}' is generic; a {2}'s sizes are constants, so declare the {2} in a non-generic class");

    /// <summary>{0} layer, {1} class name, {2} the layer attribute that came first.</summary>
    public static readonly DiagnosticDescriptor DeclaredTwice = Error("AFT0003",
        "A class declares one layer",
        "{0}: '{1}' is already declared as {2} by an earlier attribute; a class is one layer or one model, so declare this one on a class of its own");

    /// <summary>{0} layer, {1} class name, {2} the declared base type.</summary>
    public static readonly DiagnosticDescriptor HasBaseType = Error("AFT0004",
        "Layer class cannot declare a base class",
        "{0}: '{1}' derives from '{2}', but the generated part makes it a torch.nn.Module<Tensor, Tensor>; remove the base class (interfaces are fine)");

    /// <summary>{0} layer or model, {1} class name, {2} "layer" or "model".</summary>
    public static readonly DiagnosticDescriptor Static = Error("AFT0005",
        "Layer or model class cannot be static",
        "{0}: '{1}' is static, but a {2} is a module that is instantiated; remove 'static'");

    /// <summary>{0} layer or model, {1} the file-local type.</summary>
    public static readonly DiagnosticDescriptor FileLocal = Error("AFT0006",
        "Layer class cannot be file-local",
        "{0}: '{1}' is a file-local type, which a generated part in another file cannot extend (it would declare a second, separate type); remove 'file'");

    /// <summary>{0} layer or model, {1} class name.</summary>
    public static readonly DiagnosticDescriptor Record = Error("AFT0007",
        "Layer or model must be a class, not a record",
        "{0}: '{1}' is a record, but a layer or model derives from torch.nn.Module<Tensor, Tensor>, which a record cannot; declare it as 'partial class {1}'");

    /// <summary>{0} layer or model, {1} class name.</summary>
    public static readonly DiagnosticDescriptor Abstract = Error("AFT0008",
        "Layer or model cannot be abstract",
        "{0}: '{1}' is abstract, but AftDsl generates a complete module that models and users instantiate; remove 'abstract'");

    /// <summary>{0} layer or model, {1} the user's member, {2} what the generated part declares under that name.</summary>
    public static readonly DiagnosticDescriptor MemberTaken = Error("AFT0009",
        "A member the generator declares is already declared",
        "{0}: '{1}' clashes with {2}, which AftDsl generates; rename or remove yours");

    /// <summary>{0} layer, {1} argument name, {2} value, {3} what the size means and a typical value.</summary>
    public static readonly DiagnosticDescriptor NotPositive = Error("AFT0101",
        "Size must be positive",
        "{0}: {1} must be positive, got {2}; {3}");

    /// <summary>{0} layer, {1} rank (and whether it is the default), {2} maxLength.</summary>
    public static readonly DiagnosticDescriptor FactorRankAboveMaxLength = Error("AFT0102",
        "Factor rank cannot exceed maxLength",
        "{0}: FactorRank ({1}) must be at most maxLength ({2}): w = U·Wᵀ with U, W of shape [maxLength, FactorRank] has rank at most maxLength; use a FactorRank between 1 and {2}");

    /// <summary>{0} layer or model, {1} what is counted.</summary>
    public static readonly DiagnosticDescriptor SizeTooLarge = Error("AFT0104",
        "Sizes too large to represent",
        "{0}: the parameter count of {1} does not fit a 64-bit integer (it exceeds 9,223,372,036,854,775,807), so no such module can be built; use smaller sizes");

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

    /// <summary>{0} model, {1} what is wrong.</summary>
    public static readonly DiagnosticDescriptor ModelInput = Error("AFT0301",
        "A model needs one input",
        "{0} {1}; declare exactly one of [TokenInput(vocab, maxLength)] for token ids or [ImageInput(channels)] for images");

    /// <summary>{0} model, {1} stage, {2} what it expects, {3} producer, {4} produced shape, {5} advice.</summary>
    public static readonly DiagnosticDescriptor StageOrder = Error("AFT0302",
        "Stage does not fit where it stands",
        "{0}: {1} expects {2}, but {3} produces {4}; {5}");

    /// <summary>{0} model, {1} edge, {2} expected shape, {3} producer, {4} produced shape, {5} mixer type, {6} model width.</summary>
    public static readonly DiagnosticDescriptor EdgeWidth = Error("AFT0303",
        "Widths disagree at an edge",
        "{0}: {1} expects {2}; {3} produces {4}. Leave out the Dim of {5} so that the model binds it, or declare it with Dim = {6}");

    /// <summary>{0} model, {1} edge, {2} the mixer's bound, {3} where the model's length comes from, {4} mixer type, {5} the length needed.</summary>
    public static readonly DiagnosticDescriptor LengthBound = Error("AFT0304",
        "A stage's T bound is below the model's",
        "{0}: {1} accepts T ≤ {2} (its maxLength), but {3}; declare {4} with maxLength ≥ {5}, or shorten the input");

    /// <summary>{0} model, {1} edge, {2} mixer type.</summary>
    public static readonly DiagnosticDescriptor CausalLeak = Error("AFT0305",
        "Non-causal mixer in a causal model",
        "{0} is causal, but {1} is not: position t would see positions after t, a leak of the future; declare {2} with Causal = true, or make the model non-causal");

    /// <summary>{0} model.</summary>
    public static readonly DiagnosticDescriptor DecodingNeedsCausal = Error("AFT0318",
        "Step-by-step decoding needs a causal model",
        "{0} asks for Decoding, but it is not causal: a position sees the ones after it, so it cannot be decoded one token " +
        "at a time; declare it with Causal = true (every mixer causal), or leave Decoding out");

    /// <summary>{0} model, {1} property, {2} the Ffn written, {3} the FfnWidth written.</summary>
    public static readonly DiagnosticDescriptor FfnWidthTwice = Error("AFT0319",
        "The FFN's width is written twice",
        "{0}: {1} sets its FFN width twice, Ffn = {2} (a multiple of the model width) and FfnWidth = {3} (units); write one of them");

    /// <summary>{0} model, {1} edge, {2} producer, {3} produced shape.</summary>
    public static readonly DiagnosticDescriptor GridMixerOnSequence = Error("AFT0306",
        "AFT-conv on a grid fed a sequence",
        "{0}: {1} mixes a 2-d grid [B, H, W, D], but {2} produces a sequence {3}; declare it with Layout = AftConvLayout.Sequence, or feed it images through [PatchEmbedding]");

    /// <summary>{0} model, {1} stage, {2} type.</summary>
    public static readonly DiagnosticDescriptor NotAMixer = Error("AFT0307",
        "Blocks need a mixer layer",
        "{0}: the mixer '{2}' of {1} is not a layer; declare it with [AftFull], [AftLocal], [AftSimple], [AftConv] or [MultiHeadAttention]");

    /// <summary>{0} model, {1} property, {2} its type.</summary>
    public static readonly DiagnosticDescriptor StageNotPartial = Error("AFT0308",
        "A stage must be a partial property",
        "{0}: stage {1} must be a partial property, 'public partial {2} {1} {{ get; }}', so that AftDsl can implement it");

    /// <summary>{0} model, {1} property, {2} stage attribute, {3} required type, {4} declared type.</summary>
    public static readonly DiagnosticDescriptor StageType = Error("AFT0309",
        "Stage property has the wrong type",
        "{0}: {1} is a [{2}] stage, so its type must be {3}, not {4}");

    /// <summary>{0} model, {1} stage, {2} height or width, {3} its size, {4} patch, {5} divisors.</summary>
    public static readonly DiagnosticDescriptor PatchDoesNotDivide = Error("AFT0310",
        "Patch does not divide the image",
        "{0}: the patch {4} of {1} does not divide the image {2} {3}; use a patch that divides {3} ({5}), or resize the images");

    /// <summary>{0} model, {1} stage, {2} stream shape.</summary>
    public static readonly DiagnosticDescriptor PositionsNeedFixedGrid = Error("AFT0311",
        "Position embedding needs a fixed grid",
        "{0}: {1} learns one vector per position, so it needs a fixed grid, but the stream is {2}; set Height and Width on [ImageInput], or drop the position embedding (AFT-conv needs none)");

    /// <summary>{0} model, {1} stage.</summary>
    public static readonly DiagnosticDescriptor LogitsNeedClasses = Error("AFT0312",
        "Logits need a class count",
        "{0}: {1} needs Classes = n when the model's input is images (there is no token vocabulary to default to)");

    /// <summary>{0} model.</summary>
    public static readonly DiagnosticDescriptor NoStages = Error("AFT0313",
        "A model needs stages",
        "{0} has no stages; add partial properties with stage attributes such as [Embedding(dim: 256)] and [Blocks(depth: 4, mixer: typeof(Mixer))]");

    /// <summary>{0} model, {1} property, {2} the generated member it would clash with.</summary>
    /// <summary>{0} model, {1} property, {2} the stage attributes it carries.</summary>
    public static readonly DiagnosticDescriptor SeveralStages = Error("AFT0315",
        "A property is one stage",
        "{0}: {1} carries {2}, but a property is one stage; declare each stage on a property of its own");

    /// <summary>{0} model, {1} property.</summary>
    public static readonly DiagnosticDescriptor StaticStage = Error("AFT0316",
        "A stage must be an instance property",
        "{0}: stage {1} is static, but each model instance has its own stages (and parameters); remove 'static'");

    /// <summary>{0} model, {1} property, {2} the accessor.</summary>
    public static readonly DiagnosticDescriptor StageAccessor = Error("AFT0317",
        "A stage has only a getter",
        "{0}: stage {1} declares '{2}', but a stage is created with the model and never replaced; declare it '{{ get; }}'");

    public static readonly DiagnosticDescriptor StageNameTaken = Error("AFT0314",
        "Stage name is taken by a generated member",
        "{0}: a stage cannot be named {1}, the name of {2}; rename the property (for example {1}Stage)");

    /// <summary>{0} the whole message, shared with the run-time guard.</summary>
    public static readonly DiagnosticDescriptor PatchCheckedAtRunTime = Warning("AFT0401",
        "Patch divisibility is checked at run time",
        "{0}");

    /// <summary>{0} the whole message, shared with the run-time guard.</summary>
    public static readonly DiagnosticDescriptor LengthCheckedAtRunTime = Warning("AFT0402",
        "A grid's length is checked at run time",
        "{0}");

    /// <summary>
    /// No arguments. The project builds AFT declarations without AftDsl's build targets (a project reference that does
    /// not import them), so the MSBuild property AftDslRuntimeGuards cannot reach the generator. Reported once per
    /// compilation, at its end, hence the CompilationEnd tag. Internal, so that it stays out of <see cref="All"/>: only
    /// BuildTargetsAnalyzer reports it, and an IDE treats an analyzer with a compilation-end descriptor differently.
    /// </summary>
    internal static readonly DiagnosticDescriptor BuildTargetsNotImported = new("AFT9002",
        "AftDsl's build targets are not imported",
        "AftDsl's build targets are not imported into this project, so <AftDslRuntimeGuards> has no effect here and TorchSharp's native library is not made loadable on Debian 12; reference the AftDsl package (it imports them), or next to project references add <Import Project=\"path/to/src/AftDsl/buildTransitive/AftDsl.targets\" /> to the project",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpRoot + "aft9002",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>{0} class name, {1} exception type, {2} message.</summary>
    public static readonly DiagnosticDescriptor GeneratorFailure = new("AFT9001",
        "AftDsl generator failed",
        "AftDsl could not generate '{0}': {1}: {2}. This is a bug in AftDsl; please report it with the declaration.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpRoot + "aft9001");
}
