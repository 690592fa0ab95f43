using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// A causal model of token ids that decodes one token at a time. The generator implements it on every
/// <c>[AftModel(Causal = true)]</c> with a <c>[TokenInput]</c>; samplers use it to stream tokens.
/// </summary>
public interface IDecodingModel
{
    /// <summary>The longest sequence <see cref="Step"/> can decode, or null when nothing bounds it.</summary>
    long? MaxDecodingLength { get; }

    /// <summary>A fresh state for <paramref name="batch"/> sequences at position 0.</summary>
    ModelDecodingState BeginDecoding(long batch);

    /// <summary>
    /// Consumes the next token of each sequence, <paramref name="tokens"/> <c>[B]</c> int64 → logits <c>[B, vocab]</c>,
    /// the full forward's logits at that position. Rows that <paramref name="active"/> (bool <c>[B]</c>) leaves out keep
    /// their state and position.
    /// </summary>
    Tensor Step(Tensor tokens, ModelDecodingState state, Tensor? active = null);
}
