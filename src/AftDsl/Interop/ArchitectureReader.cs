using System.Reflection;
using System.Text.Json.Nodes;
using AftDsl.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftDsl.Interop;

/// <summary>
/// Describes a generated model as <c>architecture.json</c>: its input, then each stage under its state-dict name, in
/// the order forward runs them, with the widths, heads, windows and causality <c>aftdsl_torch.py</c> needs to build
/// the same network. Widths come from the parameters' shapes, options from the attributes the user declared.
/// </summary>
public static class ArchitectureReader
{
    /// <summary>TorchSharp's and PyTorch's LayerNorm default, which the generated models use.</summary>
    const double LayerNormEpsilon = 1e-5;

    /// <summary>The description of <paramref name="model"/>, a class declared with <c>[AftModel]</c>.</summary>
    /// <exception cref="NotSupportedException">A stage or mixer is not one the DSL generates: PyTorch would get a different network.</exception>
    public static JsonObject Describe(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var type = model.GetType();
        var declaration = type.GetCustomAttribute<AftModelAttribute>()
            ?? throw new NotSupportedException($"{type.FullName} is not declared with [AftModel]: only generated models can be exported.");
        var stages = new JsonArray();
        foreach (var (name, stage) in model.named_children())
            stages.Add(Stage(type, name, stage));
        return new JsonObject
        {
            ["format"] = PyTorchFiles.FormatName,
            ["format_version"] = PyTorchFiles.FormatVersion,
            ["model"] = type.FullName,
            ["causal"] = declaration.Causal,
            ["input"] = Input(type),
            ["stages"] = stages,
        };
    }

    static JsonObject Input(Type type)
    {
        if (type.GetCustomAttribute<TokenInputAttribute>() is { } tokens)
            return new JsonObject { ["kind"] = "tokens", ["vocab"] = tokens.Vocab, ["max_length"] = tokens.MaxLength };
        if (type.GetCustomAttribute<ImageInputAttribute>() is { } images)
            return new JsonObject
            {
                ["kind"] = "images",
                ["channels"] = images.Channels,
                ["height"] = images.Height > 0 ? images.Height : null,
                ["width"] = images.Width > 0 ? images.Width : null,
            };
        throw new NotSupportedException($"{type.FullName} has neither [TokenInput] nor [ImageInput].");
    }

    static JsonObject Stage(Type model, string name, nn.Module stage)
    {
        var description = stage switch
        {
            Embedding embedding => Shaped("embedding", Weight(embedding), shape => new() { ["vocab"] = shape[0], ["dim"] = shape[1] }),
            PositionEmbedding positions => Shaped("position_embedding", Weight(positions), shape => new() { ["shape"] = Array(shape) }),
            PatchEmbedding patches => Shaped("patch_embedding", Shape(patches, "projection.weight"),
                shape => new() { ["channels"] = shape[1], ["patch"] = patches.Patch, ["dim"] = shape[0] }),
            BlockStack blocks => Blocks(model, name, blocks),
            LayerNorm norm => Shaped("layer_norm", Weight(norm), shape => new() { ["dim"] = shape[0], ["eps"] = LayerNormEpsilon }),
            Linear linear => Shaped("linear", Weight(linear), shape => new() { ["in_features"] = shape[1], ["out_features"] = shape[0] }),
            ClassifierHead head => Shaped("classifier_head", Shape(head, "classifier.weight"), shape => new() { ["dim"] = shape[1], ["classes"] = shape[0] }),
            _ => throw new NotSupportedException(
                $"{model.FullName}.{name} is a {stage.GetType().FullName}, which the PyTorch export does not know: it writes the stages the DSL generates."),
        };
        description.Insert(0, "name", name);
        return description;
    }

    static JsonObject Blocks(Type model, string name, BlockStack blocks)
    {
        if (blocks.Count == 0)
            throw new NotSupportedException($"{model.FullName}.{name} holds no blocks.");
        var mixers = Enumerable.Range(0, blocks.Count).Select(i => blocks[i].Mixer.GetType()).Distinct().ToList();
        if (mixers.Count > 1)
            throw new NotSupportedException($"{model.FullName}.{name} mixes with {string.Join(" and ", mixers.Select(m => m.FullName))}: a stack has one mixer type.");
        var first = blocks[0];
        var ffn = Shape(first, "ffn.0.weight");
        return new JsonObject
        {
            ["kind"] = "blocks",
            ["depth"] = blocks.Count,
            ["dim"] = ffn[1],
            ["ffn_width"] = ffn[0],
            ["mixer"] = MixerReader.Describe(first.Mixer, $"{model.FullName}.{name}"),
        };
    }

    static JsonObject Shaped(string kind, long[] shape, Func<long[], JsonObject> settings)
    {
        var description = settings(shape);
        description.Insert(0, "kind", kind);
        return description;
    }

    static long[] Weight(nn.Module module) => Shape(module, "weight");

    /// <summary>The shape of the parameter <paramref name="name"/> of <paramref name="module"/>.</summary>
    internal static long[] Shape(nn.Module module, string name) =>
        module.named_parameters().FirstOrDefault(p => p.name == name).parameter?.shape
        ?? throw new NotSupportedException($"{module.GetType().FullName} has no parameter '{name}'.");

    internal static JsonArray Array(long[] values) => new(values.Select(v => (JsonNode)v).ToArray());
}
