using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Initialization;

/// <summary>Parameter creation and initialisation as the paper prescribes.</summary>
public static class PositionBiasInit
{
    /// <summary>
    /// Standard deviation of the factors U and W of <c>w = U·Wᵀ</c>. The paper says N(0, 10⁻²) without
    /// saying whether 10⁻² is the variance or the standard deviation; we read it the usual way, as the
    /// variance (N(μ, σ²)), so σ = 0.1. Each bias is then a sum of d' products with variance σ⁴,
    /// i.e. std(w) = σ²·√d' ≈ 0.11 for d' = 128: exp(w) starts close to 1, as in AFT-simple.
    /// </summary>
    public const double FactorStd = 0.1;

    /// <summary>
    /// Creates the two factors <c>[maxLength, rank]</c> of the factorised position bias, drawn from
    /// N(0, <see cref="FactorStd"/>²) with the global torch generator (deterministic under torch.manual_seed).
    /// </summary>
    public static (Parameter U, Parameter W) Factorised(long maxLength, long rank)
    {
        using var noGrad = no_grad();
        var u = new Parameter(empty(maxLength, rank));
        var w = new Parameter(empty(maxLength, rank));
        nn.init.normal_(u, 0.0, FactorStd);
        nn.init.normal_(w, 0.0, FactorStd);
        return (u, w);
    }
}
