using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>
/// A causal token mixer that decodes one position at a time. The generator implements it on every causal
/// sequence mixer, next to public <c>BeginDecoding</c> and <c>Step</c> methods typed with the mixer's own
/// state; blocks and models step through their mixers with it.
/// </summary>
public interface IDecodingMixer
{
    /// <summary>A fresh state for <paramref name="batch"/> sequences at position 0.</summary>
    DecodingState BeginDecoding(long batch);

    /// <summary>
    /// Mixes the next position of each sequence: <paramref name="x"/> <c>[B, Dim]</c> → <c>[B, Dim]</c>, the row of
    /// the full forward's output at that position. Rows that <paramref name="active"/> (bool <c>[B]</c>) leaves out
    /// keep their state and position; their output is to be ignored.
    /// </summary>
    Tensor Step(Tensor x, DecodingState state, Tensor? active = null);
}
