using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>
/// What one mixer kind contributes to its generated class: its documentation, constants, position parameters,
/// projections, forward and kernel call. <see cref="MixerEmitter"/> writes the class around them, so adding a
/// kind is one new descriptor and one line in <see cref="For"/>. The defaults are those of a sequence mixer
/// with Q, K, V of width HiddenDim and no position parameters.
/// </summary>
internal abstract class MixerDescriptor
{
    protected const string Tensor = "global::TorchSharp.torch.Tensor";
    protected const string Parameter = "global::TorchSharp.Modules.Parameter";

    /// <summary>The descriptor of <paramref name="kind"/>.</summary>
    public static MixerDescriptor For(MixerKind kind) => kind switch
    {
        MixerKind.Full => FullMixer.Instance,
        MixerKind.Local => LocalMixer.Instance,
        MixerKind.Simple => SimpleMixer.Instance,
        MixerKind.Conv => ConvMixer.Instance,
        _ => AttentionMixer.Instance,
    };

    /// <summary>The class summary's first sentence; <paramref name="mode"/> says what a position sees.</summary>
    public abstract string Summary(MixerSpec spec, string mode);

    public virtual string InputShape(MixerSpec spec, string dim) => $"[B, T, {dim}] for any T ≥ 1";

    public virtual string OutputShape(MixerSpec spec, string dim) => $"[B, T, {dim}]";

    /// <summary>The remarks' lines on the state-dict names and how the position parameters start.</summary>
    public virtual IEnumerable<string> StateDictRemarks(MixerSpec spec)
    {
        yield return "State-dict names: <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c> (Dim → HiddenDim), <c>out_proj</c> (HiddenDim → Dim),";
        yield return "each with <c>.weight</c> and <c>.bias</c>. AFT-simple has no position parameters.";
    }

    /// <summary>The constants of this kind's own arguments (MaxLength, Window, Heads, …).</summary>
    public virtual void KindConstants(SourceWriter w, MixerSpec spec) { }

    public virtual string CausalSummary(MixerSpec spec) => "True when position t sees positions ≤ t only.";

    /// <summary>The position parameters, as fields: type and name.</summary>
    public virtual IEnumerable<(string Type, string Name)> PositionFields(MixerSpec spec) => [];

    /// <summary>How the constructor initialises the position parameters, for its summary.</summary>
    public virtual string Initialisation(MixerSpec spec) => "no position parameters";

    /// <summary>The widths of Q and V (<c>Inner</c>) and of K (<c>Keys</c>), as C# expressions.</summary>
    public virtual (string Inner, string Keys) Projections => ("HiddenDim", "HiddenDim");

    /// <summary>The constructor's statement that creates the position parameters, or null.</summary>
    public virtual string? PositionInitialisation(MixerSpec spec) => null;

    /// <summary>The forward's statements from the projections to the tensor <c>mixed</c>.</summary>
    public virtual IEnumerable<string> Mix(MixerSpec spec, string projected) => [$"{Tensor} mixed = MixingFunction.apply({projected});"];

    /// <summary>The forward's shape guard.</summary>
    public virtual string Guard(MixerSpec spec) => "global::AftDsl.ShapeGuard.Sequence(input, LayerName, Dim, q_proj.weight!);";

    /// <summary>The runtime kernel's call: how many tensors it takes and its constant arguments; null without one.</summary>
    public abstract (int Tensors, string Constants)? Kernel(MixerSpec spec);

    /// <summary>
    /// The state type that decoding step by step carries (without <c>global::AftDsl.Decoding.</c>), or null when the kind
    /// cannot decode (non-causal layers never do).
    /// </summary>
    public virtual string? DecodingState(MixerSpec spec) => null;

    /// <summary>The arguments of the state's constructor after the layer name and the batch, as C# expressions.</summary>
    public virtual string DecodingStateArguments => "HiddenDim";

    /// <summary>What the state holds and what a step costs, for BeginDecoding's summary.</summary>
    public virtual string DecodingCost(MixerSpec spec) => "";

    /// <summary>The step's statements from the projections to the tensor <c>mixed</c>, with <c>state</c> and <c>active</c> in scope.</summary>
    public virtual IEnumerable<string> StepMix(MixerSpec spec, string projected) => [];

    /// <summary>The attribute's own arguments as a user writes them, before the shared ones (Dim, HiddenDim, Causal).</summary>
    public virtual IEnumerable<string> DeclarationArguments(MixerSpec spec) => [];

    /// <summary>This kind's named options that differ from their defaults, written after Dim and HiddenDim.</summary>
    public virtual IEnumerable<string> DeclarationOptions(MixerSpec spec) => [];
}
