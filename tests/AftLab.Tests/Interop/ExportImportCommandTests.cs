using AftDsl.Interop;
using AftLab.Models;
using AftLab.Tests.Support;
using AftLab.Training.Checkpoints;
using TorchSharp;

namespace AftLab.Tests.Interop;

/// <summary>
/// <c>aftlab export</c> and <c>aftlab import</c> from the command line, on a trained run: the export loads in PyTorch,
/// a state dict PyTorch saved comes back as the newest verified checkpoint, and a file that does not fit is refused in
/// one line naming every key, with nothing written.
/// </summary>
public sealed class ExportImportCommandTests(TrainedRun trained) : IClassFixture<TrainedRun>, IDisposable
{
    readonly TemporaryFolder folder = new();

    string Run => Path.Combine(folder.Path, "run");

    (int Code, string Output) App(params string[] arguments) => AftLabProcess.Run(folder.Path, TrainedRun.Environment(folder.Path), arguments);

    [Fact]
    public void An_export_loads_in_PyTorch_and_what_PyTorch_saves_imports_as_the_newest_checkpoint()
    {
        trained.CopyTo(Run);
        var export = Path.Combine(folder.Path, "export");
        var exported = App("export", "--model", TrainedRun.Model, "--run", Run, "--output", export);
        Outcome.Succeeds(exported);
        Assert.Contains("Exported byte-simple after 3 steps", exported.Output);

        // PyTorch loads the export from another working folder, doubles every weight and saves the state dict.
        var doubled = Path.Combine(folder.Path, "doubled.pt");
        var script = Path.Combine(folder.Path, "double.py");
        File.WriteAllText(script, """
            import sys, torch
            sys.path.insert(0, sys.argv[1])
            import aftdsl_torch
            model = aftdsl_torch.load(sys.argv[1])
            assert not model.training
            torch.save({name: tensor * 2 for name, tensor in model.state_dict().items()}, sys.argv[2])
            """);
        PyTorchProcess.Run(script, TimeSpan.FromMinutes(2), export, doubled);

        var imported = App("import", "--model", TrainedRun.Model, "--input", doubled, "--output", Run);
        Outcome.Succeeds(imported);
        Assert.Contains("checkpoint-000004", imported.Output);

        var store = new CheckpointStore(Path.Combine(Run, "checkpoints"));
        var newest = store.Find()!;
        Assert.Equal(4, newest.State.Step);                              // after the trained steps, so that every verb reads it
        var trainedState = new CheckpointStore(Path.Combine(Run, "checkpoints")).Find()!.State;
        Assert.Equal(trainedState.Tokens, newest.State.Tokens);          // the run's position carries over to train --resume
        using var fromRun = Restore(Path.Combine(Run, "checkpoints", CheckpointName.Of(3)));
        using var fromImport = Restore(newest.Path);
        foreach (var (name, tensor) in fromRun.state_dict())
            Assert.True((fromImport.state_dict()[name] == tensor * 2).all().item<bool>(), $"{name} should be the exported weight doubled");

        var evaluated = App(TrainedRun.Eval(Run));
        Outcome.Succeeds(evaluated);
        Assert.Contains("after 4 steps", evaluated.Output);
    }

    [Fact]
    public void A_state_dict_of_another_model_is_refused_naming_every_key_and_nothing_is_written()
    {
        var source = Path.Combine(folder.Path, "simple.pt");
        using (var model = ModelCatalog.Find("byte-simple").Create())
            StateDictFile.Write(model, source);
        var target = Path.Combine(folder.Path, "full-run");

        var result = App("import", "--model", "byte-full", "--input", source, "--output", target);

        Outcome.Fails(65,
            "does not fit AftLab.Models.ByteLmFull: 4 missing keys (body.blocks.0.mixer.pos_u [256, 32], body.blocks.0.mixer.pos_w [256, 32], " +
            "body.blocks.1.mixer.pos_u [256, 32], body.blocks.1.mixer.pos_w [256, 32]); 1 unexpected key (positions.weight [256, 128]). Nothing was imported.",
            result);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void A_state_dict_of_another_width_is_refused_naming_each_misshaped_key()
    {
        var source = Path.Combine(folder.Path, "pixel.pt");
        using (var model = ModelCatalog.Find("pixel-simple").Create())
            StateDictFile.Write(model, source);

        var result = App("import", "--model", "byte-simple", "--input", source, "--output", Path.Combine(folder.Path, "run"));

        Outcome.Fails(65, "mis-shaped keys (embed.weight: the model needs [256, 128], the file has [256, 64], positions.weight: the model needs [256, 128], the file has [784, 64]", result);
        Assert.DoesNotContain("head.bias", result.Output);                // [256] in both models: it fits, so it is not named
    }

    [Fact]
    public void Import_of_a_file_that_is_no_state_dict_fails_with_the_data_code()
    {
        var source = Path.Combine(folder.Path, "notes.pt");
        File.WriteAllText(source, "hello");
        Outcome.Fails(65, "is not a PyTorch state dict", App("import", "--model", "byte-simple", "--input", source, "--output", Run));
        Assert.False(Directory.Exists(Run));
    }

    [Fact]
    public void Export_of_a_run_without_checkpoints_fails_with_the_no_checkpoint_code()
    {
        Outcome.Fails(66, "No checkpoint in", App("export", "--model", "byte-simple", "--run", Run, "--output", Path.Combine(folder.Path, "export")));
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "export")));
    }

    [Fact]
    public void Usage_errors_name_the_option()
    {
        Outcome.Fails(64, "--format: unknown 'onnx'. The one format is pytorch.", App("export", "--model", "byte-simple", "--format", "onnx"));
        Outcome.Fails(64, "--input is required", App("import", "--model", "byte-simple"));
        Outcome.Fails(64, "no such file", App("import", "--model", "byte-simple", "--input", Path.Combine(folder.Path, "missing.pt")));
    }

    static torch.nn.Module<torch.Tensor, torch.Tensor> Restore(string checkpoint)
    {
        var model = ModelCatalog.Find(TrainedRun.Model).Create();
        CheckpointStore.Restore(checkpoint, model, optimizer: null);
        return model;
    }

    public void Dispose() => folder.Dispose();
}
