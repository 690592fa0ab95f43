namespace AftDsl.Decoding;

/// <summary>
/// Thrown by a decoding step at a position that the layer or model cannot represent: a learned position
/// embedding or position-bias table has only so many rows. The message names what bounds the length.
/// </summary>
public sealed class DecodingLengthException : InvalidOperationException
{
    /// <summary>Step at <paramref name="position"/> in <paramref name="owner"/>, whose <paramref name="boundedBy"/> covers positions below <paramref name="bound"/>.</summary>
    public DecodingLengthException(string owner, long position, long bound, string boundedBy)
        : base($"{owner}: cannot decode position {position}: {boundedBy} cover positions 0 to {bound - 1} only (maxLength {bound}). " +
               "Start again with Reset(), or decode with a window of the last tokens instead.")
    {
        Owner = owner;
        Position = position;
        Bound = bound;
        BoundedBy = boundedBy;
    }

    /// <summary>The layer or model that cannot go further.</summary>
    public string Owner { get; }

    /// <summary>The position the step would have taken.</summary>
    public long Position { get; }

    /// <summary>The number of positions that exist.</summary>
    public long Bound { get; }

    /// <summary>What bounds the length, e.g. "its position biases pos_u and pos_w".</summary>
    public string BoundedBy { get; }
}
