using AftLab.Tests.Support;
using AftLab.Training;
using AftLab.Training.Checkpoints;
using CsCheck;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

/// <summary>
/// Random damage to a run's checkpoints (truncated, flipped, deleted or renamed files and folders, garbage in or no
/// <c>latest</c>), up to three at once, and a resume as the trainer does it: it continues from the newest checkpoint
/// that is intact or refuses with a message; never another exception, never a non-finite weight, never a damaged
/// checkpoint deleted (it is set aside), never the checkpoint it resumed from deleted by the next save.
/// </summary>
public sealed class CheckpointDamageProperties : IDisposable
{
    readonly TemporaryFolder folder = new();
    static readonly string[] Originals = [CheckpointName.Of(10), CheckpointName.Of(20), CheckpointName.Of(30)];
    static readonly string[] Files = [.. CheckpointManifest.RequiredFiles, CheckpointManifest.FileName];

    enum Kind { Truncate, Flip, DeleteFile, RenameToOtherStep, RenameAway, GarbageLatest, DeleteLatest }

    sealed record Damage(Kind Kind, int Checkpoint, int File, int Position, int Bit)
    {
        public override string ToString() => $"{Kind} {Originals[Checkpoint]}/{Files[File]} at {Position}‱ bit {Bit}";
    }

    static readonly Gen<Damage> OneDamage =
        from kind in Gen.Int[0, 6]
        from checkpoint in Gen.Int[0, 2]
        from file in Gen.Int[0, 3]
        from position in Gen.Int[0, 9999]
        from bit in Gen.Int[0, 7]
        select new Damage((Kind)kind, checkpoint, file, position, bit);

    static (nn.Module Model, TorchSharp.Modules.OptimizerHelper Optimizer) Fresh(int seed)
    {
        manual_seed(seed);
        var model = nn.Linear(8, 4);
        return (model, optim.AdamW(model.parameters()));
    }

    // Three verified checkpoints, written once: the store keeps two of its own, so the oldest comes from a second store.
    string Template()
    {
        var template = folder.File("template");
        var (model, optimizer) = Fresh(1);
        new CheckpointStore(folder.File("older")).Save(model, optimizer, new TrainingState("linear", 10, 1, 100, 1));
        var store = new CheckpointStore(template);
        store.Save(model, optimizer, new TrainingState("linear", 20, 2, 200, 1));
        store.Save(model, optimizer, new TrainingState("linear", 30, 3, 300, 1));
        Copy(Path.Combine(folder.File("older"), Originals[0]), Path.Combine(template, Originals[0]));
        return template;
    }

    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var sub in Directory.GetDirectories(from)) Copy(sub, Path.Combine(to, Path.GetFileName(sub)));
    }

    /// <summary>Applies <paramref name="damage"/>; returns the original checkpoint it spoilt, or null when it changed only the pointer or nothing.</summary>
    static string? Apply(string run, Damage damage)
    {
        var name = Originals[damage.Checkpoint];
        var checkpoint = Path.Combine(run, name);
        var file = Path.Combine(checkpoint, Files[damage.File]);
        switch (damage.Kind)
        {
            case Kind.GarbageLatest:
                File.WriteAllBytes(Path.Combine(run, "latest"), new Random(damage.Position).GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), damage.Bit * 5));
                return null;
            case Kind.DeleteLatest:
                File.Delete(Path.Combine(run, "latest"));
                return null;
            case Kind.RenameAway when Directory.Exists(checkpoint):
                Directory.Move(checkpoint, checkpoint + ".bak" + damage.Position);
                return name;
            case Kind.RenameToOtherStep when Directory.Exists(checkpoint) && !Directory.Exists(Path.Combine(run, CheckpointName.Of(damage.Checkpoint * 10 + 15))):
                Directory.Move(checkpoint, Path.Combine(run, CheckpointName.Of(damage.Checkpoint * 10 + 15)));
                return name;
            case Kind.DeleteFile when File.Exists(file):
                File.Delete(file);
                return name;
            case Kind.Truncate when File.Exists(file) && new FileInfo(file).Length > 0:
                using (var stream = File.OpenWrite(file)) stream.SetLength(stream.Length * damage.Position / 10000);
                return name;
            case Kind.Flip when File.Exists(file) && new FileInfo(file).Length > 0:
                var bytes = File.ReadAllBytes(file);
                bytes[(int)((long)bytes.Length * damage.Position / 10000)] ^= (byte)(1 << damage.Bit);
                File.WriteAllBytes(file, bytes);
                return name;
            default:
                return null;                                                // the target was already gone: nothing changed
        }
    }

    [Fact]
    public void Resume_after_random_damage_continues_from_the_newest_intact_checkpoint_or_refuses_with_a_message()
    {
        var template = Template();
        var cases = 0;
        OneDamage.List[1, 3].Sample(damages =>
        {
            var run = folder.File($"case-{Interlocked.Increment(ref cases)}");
            Copy(template, run);
            var spoilt = damages.Select(d => Apply(run, d)).OfType<string>().ToHashSet();
            var described = string.Join(", ", damages);
            var expected = Originals.Where(o => !spoilt.Contains(o)).Max();
            // What is visible as a checkpoint and does not verify: every one of these must end up set aside, none deleted.
            var damagedVisible = Directory.GetDirectories(run).Select(Path.GetFileName).OfType<string>()
                .Where(n => CheckpointName.StepOf(n) is not null && (spoilt.Contains(n) || !Originals.Contains(n))).ToList();
            var notices = new List<string>();
            var store = new CheckpointStore(run, notices.Add, isWriter: true);
            var (model, optimizer) = Fresh(2);
            try
            {
                var found = store.Find();
                if (expected is null)
                    Assert.Fail($"{described}: resumed from {found?.Name ?? "nothing (step 0)"} although no checkpoint is intact");
                Assert.True(found is not null && found.Name == expected, $"{described}: resumed from {found?.Name}, expected {expected}");
                ArgumentNullException.ThrowIfNull(found);
                CheckpointStore.Restore(found.Path, model, optimizer);
                Assert.True(model.parameters().All(p => isfinite(p).all().item<bool>()), $"{described}: non-finite weights restored");
                store.Save(model, optimizer, found.State with { Step = 40 });
                Assert.Equal(CheckpointStatus.Verified, CheckpointCheck.Of(found.Path).Status);
            }
            catch (CheckpointException refusal)
            {
                Assert.True(expected is null, $"{described}: refused although {expected} is intact: {refusal.Message}");
                Assert.Contains("No checkpoint", refusal.Message);
            }
            foreach (var name in damagedVisible)
            {
                Assert.False(Directory.Exists(Path.Combine(run, name)), $"{described}: {name} does not verify and is still in use");
                Assert.True(Directory.GetDirectories(run, name + CheckpointName.CorruptSuffix + "*").Length == 1, $"{described}: {name} was deleted, not set aside");
            }
            Directory.Delete(run, recursive: true);
        }, iter: 240, threads: 1);
        Assert.Equal(240, cases);
    }

    public void Dispose() => folder.Dispose();
}
