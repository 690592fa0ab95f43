using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftLab.Models;

/// <summary>
/// A causal byte-level language model: byte embedding, pre-LN blocks around <see cref="LmMixer"/>
/// (AFT-full: its learned pair-wise biases carry position, so there is no position embedding),
/// a final LayerNorm and logits over the 256 byte values.
/// </summary>
public sealed class ByteLanguageModel : nn.Module<Tensor, Tensor>
{
    public const int Vocabulary = 256;
    public const long Context = LmMixer.MaxLength;

    private readonly Embedding embed;
    private readonly ModuleList<PreNormBlock> blocks;
    private readonly LayerNorm final_norm;
    private readonly Linear head;

    public ByteLanguageModel(int depth) : base(nameof(ByteLanguageModel))
    {
        embed = nn.Embedding(Vocabulary, LmMixer.Dim);
        blocks = nn.ModuleList(Enumerable.Range(0, depth).Select(_ => new PreNormBlock(new LmMixer(), LmMixer.Dim)).ToArray());
        final_norm = nn.LayerNorm(LmMixer.Dim);
        head = nn.Linear(LmMixer.Dim, Vocabulary);
        RegisterComponents();
    }

    /// <summary>Byte ids <c>[B, T]</c> (int64) → next-byte logits <c>[B, T, 256]</c>.</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var x = embed.forward(tokens);
        foreach (var block in blocks)
            x = block.forward(x);
        return head.forward(final_norm.forward(x)).MoveToOuterDisposeScope();
    }
}
