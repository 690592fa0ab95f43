using AftDsl.Decoding;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Modules;

/// <summary>
/// A pre-LN residual block, as in the paper's Transformer baselines: x + mixer(LN(x)), then
/// x + FFN(LN(x)) with a GELU feed-forward network of width <c>ffnMultiplier · dim</c>.
/// Works on sequences <c>[B, T, dim]</c> and grids <c>[B, H, W, dim]</c> alike (LayerNorm and the
/// FFN act on the last dimension). State-dict names: <c>mixer_norm</c>, <c>mixer</c>, <c>ffn_norm</c>, <c>ffn</c>.
/// </summary>
public sealed class PreNormBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm mixer_norm;
    private readonly nn.Module<Tensor, Tensor> mixer;
    private readonly LayerNorm ffn_norm;
    private readonly Sequential ffn;

    /// <summary>
    /// A block around <paramref name="mixer"/> at width <paramref name="dim"/>, with an FFN <paramref name="ffnMultiplier"/> × dim
    /// wide, or <paramref name="ffnWidth"/> wide when that is above 0.
    /// </summary>
    public PreNormBlock(nn.Module<Tensor, Tensor> mixer, long dim, long ffnMultiplier = 4, long ffnWidth = 0) : base(nameof(PreNormBlock))
    {
        ArgumentNullException.ThrowIfNull(mixer);
        var hidden = Hidden(dim, ffnMultiplier, ffnWidth);
        mixer_norm = nn.LayerNorm(dim);
        this.mixer = mixer;
        ffn_norm = nn.LayerNorm(dim);
        ffn = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim));
        RegisterComponents();
    }

    /// <summary>The token mixer this block wraps.</summary>
    public nn.Module<Tensor, Tensor> Mixer => mixer;

    /// <summary>Trainable parameters of a block around a mixer with <paramref name="mixerParameters"/> parameters (FFN widths as in the constructor).</summary>
    public static long ParameterCount(long dim, long ffnMultiplier, long mixerParameters, long ffnWidth = 0)
    {
        var hidden = Hidden(dim, ffnMultiplier, ffnWidth);
        return 2 * 2 * dim + mixerParameters + (dim * hidden + hidden) + (hidden * dim + dim);
    }

    static long Hidden(long dim, long ffnMultiplier, long ffnWidth)
    {
        var hidden = ffnWidth > 0 ? ffnWidth : ffnMultiplier * dim;
        if (dim <= 0 || hidden <= 0)
            throw new ArgumentOutOfRangeException(nameof(ffnMultiplier), $"A block needs a positive width and FFN width; got dim {dim}, FFN {hidden} (ffnMultiplier {ffnMultiplier}, ffnWidth {ffnWidth}).");
        return hidden;
    }

    /// <summary>Same shape in and out.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var mixed = x + mixer.forward(mixer_norm.forward(x));
        return (mixed + ffn.forward(ffn_norm.forward(mixed))).MoveToOuterDisposeScope();
    }

    /// <summary>A decoding state of the mixer, which must be causal (an <see cref="IDecodingMixer"/>).</summary>
    public DecodingState BeginDecoding(long batch) => DecodingMixer.BeginDecoding(batch);

    /// <summary>The block at the next position of each sequence: <c>[B, dim]</c> → <c>[B, dim]</c>, as <see cref="forward"/> computes it there.</summary>
    public Tensor Step(Tensor x, DecodingState state, Tensor? active = null)
    {
        using var scope = NewDisposeScope();
        // The Step* helpers run the norms and linears as C# loops on a few CPU rows (libtorch's per-call cost dominates there).
        var mixed = x + DecodingMixer.Step(StepNorm.Forward(mixer_norm, x), state, active);
        return (mixed + StepFeedForward.Forward(ffn, StepNorm.Forward(ffn_norm, mixed))).MoveToOuterDisposeScope();
    }

    IDecodingMixer DecodingMixer => mixer as IDecodingMixer ?? throw new InvalidOperationException(
        $"{mixer.GetName()} cannot decode step by step: only causal sequence mixers can (declare it with Causal = true).");
}
