using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Initialization;

/// <summary>Parameters of AFT-conv's reparameterised kernel (paper Eq. 8).</summary>
public static class ConvBiasInit
{
    /// <summary>
    /// The raw kernel <c>[heads, s]</c> or <c>[heads, s, s]</c>, drawn from N(0, 1) (its scale cancels in the
    /// normalisation; it must not be constant, or γ would get no gradient), and the gain γ and bias β
    /// <c>[heads]</c>, both 0 as the paper prescribes, so a new layer is exactly AFT-simple.
    /// </summary>
    public static (Parameter Raw, Parameter Gamma, Parameter Beta) Create(long heads, long window, bool grid)
    {
        using var noGrad = no_grad();
        var raw = new Parameter(grid ? empty(heads, window, window) : empty(heads, window));
        nn.init.normal_(raw, 0.0, 1.0);
        return (raw, new Parameter(zeros(heads)), new Parameter(zeros(heads)));
    }

    /// <summary>
    /// The kernel w itself, <c>[heads, s]</c> or <c>[heads, s, s]</c>, for a layer without the reparameterisation
    /// (<see cref="AftConvAttribute.Reparameterise"/> = false): all 0, so a new layer is exactly AFT-simple.
    /// </summary>
    public static Parameter CreateRaw(long heads, long window, bool grid) =>
        new(grid ? zeros(heads, window, window) : zeros(heads, window));
}
