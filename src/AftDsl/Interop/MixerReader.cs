using System.Reflection;
using System.Text.Json.Nodes;
using TorchSharp;

namespace AftDsl.Interop;

/// <summary>Describes one generated token mixer for <c>architecture.json</c>, from its declaration attribute and its parameters.</summary>
internal static class MixerReader
{
    public static JsonObject Describe(torch.nn.Module mixer, string where)
    {
        var type = mixer.GetType();
        var projection = ArchitectureReader.Shape(mixer, "q_proj.weight");          // [hidden, dim]
        var (dim, hidden) = (projection[1], projection[0]);
        JsonObject description = type.GetCustomAttribute<AftMixerAttribute>(inherit: false) switch
        {
            AftFullAttribute full => new()
            {
                ["kind"] = "aft_full", ["dim"] = dim, ["hidden_dim"] = hidden,
                ["max_length"] = full.MaxLength, ["factor_rank"] = Rank(mixer), ["causal"] = full.Causal,
            },
            AftLocalAttribute local => new()
            {
                ["kind"] = "aft_local", ["dim"] = dim, ["hidden_dim"] = hidden,
                ["max_length"] = local.MaxLength, ["factor_rank"] = Rank(mixer), ["window"] = local.Window, ["causal"] = local.Causal,
            },
            AftSimpleAttribute simple => new() { ["kind"] = "aft_simple", ["dim"] = dim, ["hidden_dim"] = hidden, ["causal"] = simple.Causal },
            AftConvAttribute conv => new()
            {
                ["kind"] = "aft_conv", ["dim"] = dim, ["heads"] = conv.Heads, ["window"] = conv.Window,
                ["layout"] = conv.Layout == AftConvLayout.Grid ? "grid" : "sequence", ["causal"] = conv.Causal,
                ["reparameterise"] = conv.Reparameterise,
                ["connectivity"] = conv.Connectivity == AftConvConnectivity.Global ? "global" : "window",
            },
            MultiHeadAttentionAttribute attention => new() { ["kind"] = "multi_head_attention", ["dim"] = dim, ["heads"] = attention.Heads, ["causal"] = attention.Causal },
            _ => throw new NotSupportedException(
                $"{where} mixes with {type.FullName}, which is not declared with [AftFull], [AftLocal], [AftSimple], [AftConv] or [MultiHeadAttention]."),
        };
        description["class"] = type.FullName;
        return description;
    }

    static long Rank(torch.nn.Module mixer) => ArchitectureReader.Shape(mixer, "pos_u")[1];
}
