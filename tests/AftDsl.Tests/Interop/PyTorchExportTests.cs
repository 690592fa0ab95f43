using System.Text.Json.Nodes;
using AftDsl.Interop;
using AftDsl.Tests.Models;
using TorchSharp;
using Xunit;

namespace AftDsl.Tests.Interop;

/// <summary>An export folder: the state dict, an architecture.json that describes every stage in order, and the shipped module.</summary>
public sealed class PyTorchExportTests
{
    [Fact]
    public void An_export_writes_the_weights_the_architecture_and_the_reference_module()
    {
        using var folder = new ExportFolder();
        using var model = new TinyLm();

        var files = PyTorchExport.Write(model, folder.Path);

        Assert.Equal(
            [PyTorchReference.FileName, PyTorchFiles.Architecture, PyTorchFiles.Weights],
            Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(PyTorchReference.Source, File.ReadAllText(files.Module));
        Assert.Contains("def load(folder", PyTorchReference.Source, StringComparison.Ordinal);
        var architecture = JsonNode.Parse(File.ReadAllText(files.Architecture))!;
        Assert.Equal(PyTorchFiles.FormatName, (string?)architecture["format"]);
        Assert.Equal(PyTorchFiles.FormatVersion, (int)architecture["format_version"]!);
    }

    [Fact]
    public void A_token_model_is_described_stage_by_stage_in_forward_order()
    {
        using var model = new TinyLm();

        var architecture = Parse(ArchitectureReader.Describe(model));

        Assert.Equal("AftDsl.Tests.Models.TinyLm", (string?)architecture["model"]);
        Assert.True((bool)architecture["causal"]!);
        Assert.Equal("""{"kind":"tokens","vocab":11,"max_length":32}""", architecture["input"]!.ToJsonString());
        var stages = architecture["stages"]!.AsArray();
        Assert.Equal(["embed", "body", "norm", "head"], stages.Select(s => (string?)s!["name"]));
        Assert.Equal("""{"name":"embed","kind":"embedding","vocab":11,"dim":8}""", stages[0]!.ToJsonString());
        Assert.Equal(
            """{"name":"body","kind":"blocks","depth":2,"dim":8,"ffn_width":16,"mixer":{"kind":"aft_local","dim":8,"hidden_dim":8,"max_length":32,"factor_rank":8,"window":4,"causal":true,"class":"AftDsl.Tests.Models.SmallLocalMixer"}}""",
            stages[1]!.ToJsonString());
        Assert.Equal("""{"name":"norm","kind":"layer_norm","dim":8,"eps":1E-05}""", stages[2]!.ToJsonString());
        Assert.Equal("""{"name":"head","kind":"linear","in_features":8,"out_features":11}""", stages[3]!.ToJsonString());
    }

    [Fact]
    public void An_image_model_is_described_with_its_patches_conv_mixer_and_classifier()
    {
        using var model = new TinyConvClassifier();

        var architecture = Parse(ArchitectureReader.Describe(model));

        Assert.False((bool)architecture["causal"]!);
        Assert.Equal("""{"kind":"images","channels":2,"height":null,"width":null}""", architecture["input"]!.ToJsonString());
        var stages = architecture["stages"]!.AsArray();
        Assert.Equal("""{"name":"patches","kind":"patch_embedding","channels":2,"patch":2,"dim":8}""", stages[0]!.ToJsonString());
        Assert.Equal(
            """{"kind":"aft_conv","dim":8,"heads":2,"window":3,"layout":"grid","causal":false,"reparameterise":true,"connectivity":"global","class":"AftDsl.Tests.Models.SmallConvMixer"}""",
            stages[1]!["mixer"]!.ToJsonString());
        Assert.Equal("""{"name":"head","kind":"classifier_head","dim":8,"classes":5}""", stages[3]!.ToJsonString());
    }

    [Fact]
    public void A_module_the_DSL_did_not_generate_is_refused_and_nothing_is_written()
    {
        using var folder = new ExportFolder();
        using var linear = torch.nn.Linear(3, 4);
        var target = Path.Combine(folder.Path, "export");

        var error = Assert.Throws<NotSupportedException>(() => PyTorchExport.Write(linear, target));

        Assert.Contains("is not declared with [AftModel]", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target));
    }

    static JsonNode Parse(JsonObject description) => JsonNode.Parse(description.ToJsonString())!;
}
