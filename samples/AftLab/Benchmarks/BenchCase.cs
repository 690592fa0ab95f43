using System.Globalization;
using TorchSharp;

namespace AftLab.Benchmarks;

/// <summary>The operations compared: the four AFT variants, multi-head attention, and a plain matmul as the machine's roof.</summary>
public enum Variant { Full, Local, Simple, Conv, Attention, Matmul, Copy, SimpleLayer, LocalLayer, AttentionLayer }

/// <summary>How an operation is computed.</summary>
public enum Implementation
{
    /// <summary>AftDsl's fused kernel with its hand-written backward (C# SIMD on CPU, CUDA kernels on a GPU).</summary>
    Fused,
    /// <summary>AftDsl's libtorch-operator kernel (<c>AFTDSL_KERNELS=torch</c>): the same hand-written backward as chains of libtorch operators.</summary>
    Operators,
    /// <summary>The linear-memory expression in plain TorchSharp operations, differentiated by autograd.</summary>
    Unfused,
    /// <summary>The equation as written, broadcasting a B×T×T×d tensor.</summary>
    Naive,
    /// <summary>TorchSharp's scaled_dot_product_attention, 8 heads × 64.</summary>
    Sdpa,
    /// <summary>The machine's roofs: a plain matrix product of AFT-full's forward work, and a device-to-device copy of AFT-simple's bytes.</summary>
    Roof,
}

/// <summary>
/// One measured configuration. <see cref="Length"/> is T (for a grid, H·W); <see cref="Batch"/> is chosen so that
/// B·T stays near the requested token count.
/// </summary>
public sealed record BenchCase(
    Variant Variant,
    Implementation Implementation,
    long Length,
    long Batch,
    bool Causal,
    bool Backward,
    torch.ScalarType Dtype,
    long Width = 512,
    long Window = 0,
    long Heads = 0,
    long GridSide = 0)
{
    /// <summary>Name of the variant in reports: <c>full</c>, <c>local-32</c>, <c>simple</c>, <c>conv-32h-7</c>, <c>mha-8x64</c>, <c>matmul</c>.</summary>
    public string VariantName => Variant switch
    {
        Variant.Local => $"local-{Window}",
        Variant.Conv => $"conv-{Heads}h-{Window}",
        Variant.Attention => "mha-8x64",
        Variant.SimpleLayer => "layer-simple",
        Variant.LocalLayer => "layer-local-128",
        Variant.AttentionLayer => "layer-mha-8x64",
        _ => Variant.ToString().ToLowerInvariant(),
    };

    public string Pass => Backward ? "fwd+bwd" : "fwd";

    /// <summary>Stable identifier of the case: what the CSV, the memory pass and the report join on.</summary>
    public string Key => string.Join("|", VariantName, Implementation.ToString().ToLowerInvariant(),
        Length.ToString(CultureInfo.InvariantCulture), Causal ? "causal" : "full", Pass);

    /// <summary>Floating-point work of the forward pass, for AFT-full and the roof: 4·B·T²·d, halved when causal.</summary>
    public double ForwardFlops => 4.0 * Batch * Length * Length * Width * (Causal ? 0.5 : 1.0);

    /// <summary>Bytes AFT-simple's forward must move at least: read Q, K, V and write Y.</summary>
    public double ForwardBytes => 4.0 * Batch * Length * Width * torch.empty(0, dtype: Dtype).element_size();

    public override string ToString() =>
        $"{VariantName}/{Implementation.ToString().ToLowerInvariant()}/T={Length}/{(Causal ? "causal" : "full")}/{Pass}";
}
