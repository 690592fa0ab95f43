using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftLab.Models;

/// <summary>
/// A pre-LN residual block: x + mixer(LN(x)), then x + FFN(LN(x)) with a GELU FFN of width
/// <c>ffnMultiplier · dim</c>, as in the paper's Transformer baselines.
/// </summary>
public sealed class PreNormBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm mixer_norm;
    private readonly nn.Module<Tensor, Tensor> mixer;
    private readonly LayerNorm ffn_norm;
    private readonly Sequential ffn;

    public PreNormBlock(nn.Module<Tensor, Tensor> mixer, long dim, long ffnMultiplier = 4) : base(nameof(PreNormBlock))
    {
        mixer_norm = nn.LayerNorm(dim);
        this.mixer = mixer;
        ffn_norm = nn.LayerNorm(dim);
        ffn = nn.Sequential(nn.Linear(dim, ffnMultiplier * dim), nn.GELU(), nn.Linear(ffnMultiplier * dim, dim));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var mixed = x + mixer.forward(mixer_norm.forward(x));
        return (mixed + ffn.forward(ffn_norm.forward(mixed))).MoveToOuterDisposeScope();
    }
}
