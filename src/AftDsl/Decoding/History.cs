using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// Per-row rows of width C written at each row's position, <c>[B, capacity, C]</c>: a KV cache's storage.
/// The capacity doubles as positions grow (up to <c>bound</c> when there is one), so appending is amortised O(C).
/// </summary>
internal sealed class History : IDisposable
{
    const long InitialCapacity = 16;
    readonly long? bound;
    Tensor buffer;

    public History(long batch, long width, long? bound, Tensor like)
    {
        this.bound = bound;
        buffer = DecodingState.Owned([batch, Math.Min(InitialCapacity, bound ?? InitialCapacity), width], 0, like);
    }

    /// <summary>Rows allocated per sequence.</summary>
    public long Capacity => buffer.shape[1];

    /// <summary>Bytes the storage holds.</summary>
    public long ByteCount => buffer.NumberOfElements * buffer.ElementSize;

    /// <summary>The first <paramref name="length"/> rows of every sequence, <c>[B, length, C]</c> (a view).</summary>
    public Tensor Prefix(long length) => buffer.narrow(1, 0, length);

    /// <summary>Writes <paramref name="values"/> <c>[B, C]</c> at each row's <paramref name="positions"/> (<c>[B]</c> int64).</summary>
    public void Write(Tensor values, Tensor positions, long largestPosition)
    {
        Grow(largestPosition + 1);
        var index = positions.view(-1, 1, 1).expand(-1, 1, buffer.shape[2]);
        buffer.scatter_(1, index, values.unsqueeze(1));
    }

    /// <summary>Multiplies every stored row of each sequence by <paramref name="factor"/> <c>[B, C]</c>.</summary>
    public void Scale(Tensor factor) => buffer.mul_(factor.unsqueeze(1));

    public void Clear() => buffer.zero_();

    public void Dispose() => buffer.Dispose();

    void Grow(long length)
    {
        if (length <= Capacity)
            return;
        var capacity = Capacity;
        while (capacity < length)
            capacity *= 2;
        if (bound is { } limit)
            capacity = Math.Min(capacity, limit);
        using var scope = NewDisposeScope();
        var grown = zeros([buffer.shape[0], capacity, buffer.shape[2]], dtype: buffer.dtype, device: buffer.device);
        grown.narrow(1, 0, Capacity).copy_(buffer);
        DecodingState.Keep(ref buffer, grown);
    }
}
