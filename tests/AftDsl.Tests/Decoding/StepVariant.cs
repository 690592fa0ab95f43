using AftDsl.Decoding;
using AftDsl.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Tests.Decoding;

/// <summary>
/// One causal mixer's maths twice: the full forward over <c>[B, T, ·]</c> (the runtime kernel) and the decoding
/// step over <c>[B, ·]</c> (<see cref="AftStep"/>), on the same parameters. Inputs are Q, K, V with the widths
/// the kernel takes (AFT-conv: K has one channel per head).
/// </summary>
public sealed record StepVariant(
    string Name,
    long Width,
    long KeyWidth,
    Func<long, Tensor, DecodingState> Begin,
    Func<Tensor, Tensor, Tensor, Tensor> Forward,
    Func<Tensor, Tensor, Tensor, DecodingState, Tensor?, Tensor> Step)
{
    public override string ToString() => Name;

    public const long MaxLength = 24;

    /// <summary>Every variant, its parameters drawn in <paramref name="dtype"/> from a fixed seed.</summary>
    public static IEnumerable<StepVariant> All(ScalarType dtype)
    {
        var generator = new Generator(7);
        Tensor Draw(params long[] shape) => (randn(shape, dtype: float64, generator: generator) * 0.5).to(dtype);
        var (u, w) = (Draw(MaxLength, 3), Draw(MaxLength, 3));
        var kernel = Draw(2, 3);
        const long width = 6;

        yield return new("AFT-simple", width, width, (b, like) => new AftSimpleDecodingState("simple", b, width, like),
            (q, k, v) => AftSimple.Apply(q, k, v, causal: true),
            (q, k, v, s, a) => AftStep.Simple(q, k, v, (AftSimpleDecodingState)s, a));
        foreach (var window in new long[] { 1, 3, 8 })
            yield return new($"AFT-local-{window}", width, width, (b, like) => new AftLocalDecodingState("local", b, width, window, like),
                (q, k, v) => AftLocal.Apply(q, k, v, u, w, window, causal: true),
                (q, k, v, s, a) => AftStep.Local(q, k, v, u, w, (AftLocalDecodingState)s, a));
        yield return new("AFT-full", width, width, (b, like) => new AftFullDecodingState("full", b, width, MaxLength, like),
            (q, k, v) => AftFull.Apply(q, k, v, u, w, causal: true),
            (q, k, v, s, a) => AftStep.Full(q, k, v, u, w, (AftFullDecodingState)s, a));
        yield return new("AFT-conv", width, 2, (b, like) => new AftLocalDecodingState("conv", b, width, 3, like),
            (q, k, v) => AftConv.Apply(q, k, v, kernel, causal: true),
            (q, k, v, s, a) => AftStep.Conv(q, k, v, kernel, (AftLocalDecodingState)s, a));
        yield return new("AFT-conv-window", width, 2, (b, like) => new AftLocalDecodingState("conv", b, width, 3, like),
            (q, k, v) => AftConv.Apply(q, k, v, kernel, causal: true, AftConvConnectivity.Window),
            (q, k, v, s, a) => AftStep.Conv(q, k, v, kernel, (AftLocalDecodingState)s, a, AftConvConnectivity.Window));
        yield return new("MHA", width, width, (b, like) => new KeyValueCacheState("mha", b, width, 2, like),
            (q, k, v) => MultiHeadAttention.Apply(q, k, v, 2, causal: true),
            (q, k, v, s, a) => AftStep.Attention(q, k, v, 2, (KeyValueCacheState)s, a));
    }

    /// <summary>Q, K, V <c>[B, T, ·]</c>; keys scaled by <paramref name="keyScale"/>.</summary>
    public (Tensor Q, Tensor K, Tensor V) Inputs(long batch, long length, ScalarType dtype, ulong seed, double keyScale = 1)
    {
        var generator = new Generator(seed);
        Tensor Draw(long width) => randn([batch, length, width], dtype: float64, generator: generator).to(dtype);
        return (Draw(Width), Draw(KeyWidth) * keyScale, Draw(Width));
    }

    /// <summary>Steps through every position of every row; <c>[B, T, ·]</c>.</summary>
    public Tensor StepAll(Tensor q, Tensor k, Tensor v, DecodingState state) =>
        stack(Enumerable.Range(0, (int)q.shape[1]).Select(t => Step(q.select(1, t), k.select(1, t), v.select(1, t), state, null)).ToArray(), 1);
}
