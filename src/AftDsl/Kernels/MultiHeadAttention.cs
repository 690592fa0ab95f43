using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Kernels;

/// <summary>
/// Multi-head dot-product attention through TorchSharp's <c>scaled_dot_product_attention</c> (FlashAttention
/// on CUDA, a memory-efficient kernel on CPU): the baseline the paper compares AFT with.
/// </summary>
public static class MultiHeadAttention
{
    /// <summary><c>[B, T, D]</c> query, key and value split into <paramref name="heads"/> heads of D / heads → <c>[B, T, D]</c>.</summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, long heads, bool causal)
    {
        using var scope = NewDisposeScope();
        var (batch, length, width) = (q.shape[0], q.shape[1], q.shape[2]);
        Tensor Split(Tensor x) => x.view(batch, length, heads, width / heads).transpose(1, 2);
        var mixed = nn.functional.scaled_dot_product_attention(Split(q), Split(k), Split(v), is_casual: causal);
        return mixed.transpose(1, 2).reshape(batch, length, width).MoveToOuterDisposeScope();
    }
}
