using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

public sealed class CheckpointStoreTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    static (nn.Module Model, TorchSharp.Modules.OptimizerHelper Optimizer) Fresh(int seed)
    {
        manual_seed(seed);
        var model = nn.Linear(3, 2);
        return (model, optim.AdamW(model.parameters()));
    }

    static TrainingState State(int step) => new("byte-simple", step, step * 1.5, step * 100L, 1);

    [Fact]
    public void The_latest_checkpoint_restores_the_weights_it_saved()
    {
        var store = new CheckpointStore(folder.Path);
        Assert.Null(store.Latest());
        var (model, optimizer) = Fresh(1);
        store.Save(model, optimizer, State(10));

        var (other, _) = Fresh(2);
        var latest = store.Latest()!.Value;
        CheckpointStore.Restore(latest.Path, other, optimizer: null);
        Assert.Equal(State(10), latest.State);
        Assert.True(model.parameters().Zip(other.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()));
    }

    [Fact]
    public void Keeps_the_new_and_the_previous_checkpoint_and_removes_unpublished_and_half_deleted_ones()
    {
        var store = new CheckpointStore(folder.Path);
        var (model, optimizer) = Fresh(1);
        store.Save(model, optimizer, State(10));
        store.Save(model, optimizer, State(20));
        Directory.CreateDirectory(Path.Combine(folder.Path, "checkpoint-000025.partial-4242"));   // what a crash before publishing leaves
        Directory.CreateDirectory(Path.Combine(folder.Path, "checkpoint-000005.pruning"));       // what a crash while pruning leaves
        Assert.Equal(20, store.Latest()!.Value.State.Step);                                       // neither is taken for a checkpoint
        store.Save(model, optimizer, State(30));

        Assert.Equal(["checkpoint-000020", "checkpoint-000030"], Directory.GetDirectories(folder.Path).Select(Path.GetFileName).Order());
        Assert.Equal(30, store.Latest()!.Value.State.Step);
    }

    [Fact]
    public void A_damaged_checkpoint_of_the_step_being_written_is_set_aside_not_deleted()
    {
        var notices = new List<string>();
        var store = new CheckpointStore(folder.Path, notices.Add, isWriter: true);
        var damaged = Path.Combine(folder.Path, "checkpoint-000010");
        Directory.CreateDirectory(damaged);
        File.WriteAllText(Path.Combine(damaged, "model.dat"), "not a model");
        var (model, optimizer) = Fresh(1);
        store.Save(model, optimizer, State(10));

        Assert.Equal(10, store.Latest()!.Value.State.Step);
        Assert.Equal("not a model", File.ReadAllText(Path.Combine(folder.Path, "checkpoint-000010.corrupt", "model.dat")));
        Assert.Contains(notices, n => n.Contains("renamed to checkpoint-000010.corrupt", StringComparison.Ordinal));
    }

    [Fact]
    public void Saving_the_same_step_again_leaves_the_good_checkpoint_untouched()
    {
        var store = new CheckpointStore(folder.Path);
        var (model, optimizer) = Fresh(1);
        store.Save(model, optimizer, State(10));
        var written = File.GetLastWriteTimeUtc(Path.Combine(store.Latest()!.Value.Path, "model.dat"));
        Thread.Sleep(20);
        store.Save(model, optimizer, State(10) with { ElapsedSeconds = 99 });
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(store.Latest()!.Value.Path, "model.dat")));
        Assert.Equal(15, store.Latest()!.Value.State.ElapsedSeconds);
    }

    public void Dispose() => folder.Dispose();
}
