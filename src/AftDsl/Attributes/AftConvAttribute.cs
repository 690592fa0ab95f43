namespace AftDsl;

/// <summary>What an AFT-conv layer mixes over.</summary>
public enum AftConvLayout
{
    /// <summary>A 2-d grid, input <c>[B, H, W, Dim]</c>, kernel window × window. The default.</summary>
    Grid = 0,

    /// <summary>A 1-d sequence, input <c>[B, T, Dim]</c>, kernel of window taps; may be causal.</summary>
    Sequence = 1,
}

/// <summary>
/// Declares an AFT-conv token mixer (Zhai et al., 2021, Eq. 6; configuration AFT-conv-h-s) on a partial
/// class: per head, a depthwise convolution with the kernel exp(w) − 1 plus global sums; the keys have one
/// channel per head. Its biases depend only on relative position, so a layer runs on grids of any size.
/// The kernel is reparameterised as w = γ·(w − mean)/(std + ε) + β with γ = β = 0 at initialisation, so a
/// new layer is exactly AFT-simple (<see cref="Reparameterise"/> = false trains w itself, from 0). Sources
/// outside the window count with w = 0 (<see cref="Connectivity"/> = <see cref="AftConvConnectivity.Window"/>
/// drops them).
/// </summary>
/// <example><code>
/// [AftConv(heads: 32, window: 7)]                    // 2-d grid, width bound by the model or the constructor
/// public partial class PatchMixer;
///
/// [AftConv(heads: 8, window: 5, Dim = 256, Layout = AftConvLayout.Sequence, Causal = true)]
/// public partial class CausalConvMixer;
/// </code></example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class AftConvAttribute(int heads, int window) : AftMixerAttribute
{
    /// <summary>Number of heads h: K has h channels, and h must divide Dim.</summary>
    public int Heads { get; } = heads;

    /// <summary>Kernel size s (s × s on a grid, which needs an odd s so that "same" padding is centred).</summary>
    public int Window { get; } = window;

    /// <summary>A 2-d grid (default) or a 1-d sequence. <see cref="AftMixerAttribute.Causal"/> applies to sequences only.</summary>
    public AftConvLayout Layout { get; set; } = AftConvLayout.Grid;

    /// <summary>When set (with <see cref="GridWidth"/>), the grid's height that forward requires; left out, any height.</summary>
    public int GridHeight { get; set; }

    /// <summary>When set (with <see cref="GridHeight"/>), the grid's width that forward requires; left out, any width.</summary>
    public int GridWidth { get; set; }

    /// <summary>
    /// True (the default, the paper's Eq. 8): the kernel is w = γ·(w_raw − mean)/(std + ε) + β per head, with
    /// parameters <c>pos_w</c> (N(0, 1)), <c>pos_gamma</c> and <c>pos_beta</c> (0). False: <c>pos_w</c> is the
    /// kernel itself, initialised to 0, and there is no γ or β. Either way a new layer is exactly AFT-simple.
    /// </summary>
    public bool Reparameterise { get; set; } = true;

    /// <summary>
    /// <see cref="AftConvConnectivity.Global"/> (the default, the paper's): sources outside the window count with
    /// w = 0. <see cref="AftConvConnectivity.Window"/>: w = −∞ outside the window, so each position mixes its
    /// window only.
    /// </summary>
    public AftConvConnectivity Connectivity { get; set; } = AftConvConnectivity.Global;
}
