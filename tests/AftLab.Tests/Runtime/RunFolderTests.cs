using AftLab.Runtime;
using AftLab.Tests.Support;

namespace AftLab.Tests.Runtime;

/// <summary>What a new run that fails before its first checkpoint removes: its own folders, never another run's.</summary>
public sealed class RunFolderTests : IDisposable
{
    readonly TemporaryFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void A_failed_start_removes_the_run_folder_and_the_parents_it_made()
    {
        var run = RunFolder.Open(folder.File("runs/nested/a"), "byte-simple");
        run.RemoveWhatThisRunCreated();
        Assert.False(Directory.Exists(folder.File("runs")), "runs/ was made by this run and is empty: it should be gone");
        Assert.True(Directory.Exists(folder.Path));
    }

    [Fact]
    public void A_failed_start_keeps_a_run_that_another_trainer_started_in_a_parent_it_made()
    {
        var run = RunFolder.Open(folder.File("runs/a"), "byte-simple");
        using var other = RunFolder.Open(folder.File("runs/b"), "byte-full");      // started meanwhile, in the same new runs/
        File.WriteAllText(Path.Combine(other.Path, "metrics.csv"), "step\n");
        run.RemoveWhatThisRunCreated();
        Assert.False(Directory.Exists(folder.File("runs/a")));
        Assert.True(File.Exists(folder.File("runs/b/metrics.csv")), "the other trainer's run must survive");
    }
}
