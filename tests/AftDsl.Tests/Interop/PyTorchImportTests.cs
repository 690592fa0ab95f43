using AftDsl.Interop;
using AftDsl.Tests.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AftDsl.Tests.Interop;

/// <summary>
/// Importing a state dict: an exact fit loads every tensor; anything else loads nothing and names every key that does
/// not fit, in one message.
/// </summary>
public sealed class PyTorchImportTests
{
    [Fact]
    public void An_exported_state_dict_imports_into_a_fresh_model_bit_for_bit()
    {
        using var folder = new ExportFolder();
        torch.manual_seed(3);
        using var source = new TinyLm();
        var files = PyTorchExport.Write(source, folder.Path);
        torch.manual_seed(4);
        using var target = new TinyLm();
        Assert.False(Same(source, target));

        PyTorchImport.Load(target, files.Weights);

        Assert.True(Same(source, target));
    }

    [Fact]
    public void A_state_dict_of_another_model_is_refused_naming_every_missing_unexpected_and_misshaped_key()
    {
        using var folder = new ExportFolder();
        using var other = new TinyAttentionLm();                         // a position embedding, one attention block with a 4× FFN, no final norm
        var path = folder.File("other.pt");
        StateDictFile.Write(other, path);
        torch.manual_seed(5);
        using var model = new TinyLm();                                   // two AFT-local blocks with a 2× FFN, a final norm
        var before = Snapshot(model);

        var error = Assert.Throws<StateDictMismatchException>(() => PyTorchImport.Load(model, path));

        var expectedMissing = new[]
        {
            "body.blocks.0.mixer.pos_u", "body.blocks.0.mixer.pos_w", "body.blocks.1.mixer_norm.weight", "body.blocks.1.mixer.q_proj.weight",
            "body.blocks.1.ffn.2.bias", "norm.weight", "norm.bias",
        };
        var misshaped = new[] { "body.blocks.0.ffn.0.weight", "body.blocks.0.ffn.0.bias", "body.blocks.0.ffn.2.weight" };
        foreach (var key in expectedMissing)
            Assert.Contains(error.Problems, p => p.Kind == StateDictProblemKind.Missing && p.Key == key);
        foreach (var key in misshaped)
            Assert.Contains(error.Problems, p => p.Kind == StateDictProblemKind.Misshaped && p.Key == key);
        Assert.Equal(["positions.weight"], error.Problems.Where(p => p.Kind == StateDictProblemKind.Unexpected).Select(p => p.Key));
        foreach (var problem in error.Problems)
            Assert.Contains(problem.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("body.blocks.0.ffn.0.weight: the model needs [16, 8], the file has [32, 8]", error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{path} does not fit AftDsl.Tests.Models.TinyLm: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(model));                            // nothing was loaded
    }

    [Fact]
    public void Floating_point_tensors_of_another_dtype_are_converted()
    {
        torch.manual_seed(6);
        using var source = new TinyLm();
        var doubles = source.state_dict().ToDictionary(e => e.Key, e => e.Value.to(float64));
        using var target = new TinyLm();

        PyTorchImport.Load(target, doubles);

        Assert.True(Same(source, target));
        Assert.All(target.parameters(), p => Assert.Equal(float32, p.dtype));
    }

    [Fact]
    public void A_file_that_is_no_state_dict_is_refused_with_its_name()
    {
        using var folder = new ExportFolder();
        var path = folder.File("notes.pt");
        File.WriteAllText(path, "not a zip of pickled tensors");
        using var model = new TinyLm();

        var error = Assert.Throws<StateDictFormatException>(() => PyTorchImport.Load(model, path));

        Assert.StartsWith($"{path} is not a PyTorch state dict", error.Message, StringComparison.Ordinal);
        Assert.Contains("torch.save(model.state_dict(), path)", error.Message, StringComparison.Ordinal);
    }

    static bool Same(nn.Module a, nn.Module b) =>
        a.state_dict().All(e => b.state_dict()[e.Key].shape.SequenceEqual(e.Value.shape) && b.state_dict()[e.Key].equal(e.Value).all().item<bool>());

    static List<float[]> Snapshot(nn.Module model) => model.parameters().Select(p => p.data<float>().ToArray()).ToList();
}
