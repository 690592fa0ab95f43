using AftLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Tests.Training;

public sealed class ShardedTaskTests
{
    /// <summary>Rows numbered by the generator's draws: row i of a batch holds the i-th number drawn for it.</summary>
    sealed class NumberedRows(int batch) : ITrainingTask
    {
        public string Metric => "nats";

        public long TokensPerBatch => batch;

        public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device)
        {
            var rows = Enumerable.Range(0, batch).Select(_ => (long)random.Next(1_000_000)).ToArray();
            return (tensor(rows, [batch, 1]).to(device), tensor(rows.Select(r => -r).ToArray()).to(device));
        }

        public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets) => throw new NotSupportedException();

        public double ToMetric(double loss) => loss;

        public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick) => throw new NotSupportedException();
    }

    [Fact]
    public void The_ranks_shares_are_disjoint_and_together_the_batch_one_process_draws()
    {
        const int ranks = 3, share = 2, seed = 5;
        var combined = new NumberedRows(ranks * share);
        var (expectedInputs, expectedTargets) = combined.Batch(new Random(seed), CPU);
        var inputs = new List<long>();
        var targets = new List<long>();
        for (var rank = 0; rank < ranks; rank++)
        {
            var (i, t) = new ShardedTask(combined, ranks * share, rank, ranks).Batch(new Random(seed), CPU);
            Assert.Equal([share, 1L], i.shape);
            inputs.AddRange(i.data<long>().ToArray());
            targets.AddRange(t.data<long>().ToArray());
        }
        Assert.Equal(expectedInputs.data<long>().ToArray(), inputs);
        Assert.Equal(expectedTargets.data<long>().ToArray(), targets);
        Assert.Equal(ranks * share, inputs.Distinct().Count());
    }

    [Fact]
    public void Each_step_draws_a_new_batch_from_the_same_generator_on_every_rank()
    {
        var combined = new NumberedRows(4);
        var random = new Random(1);
        var task = new ShardedTask(combined, 4, 1, 2);
        var first = task.Batch(random, CPU).Inputs.data<long>().ToArray();
        var second = task.Batch(random, CPU).Inputs.data<long>().ToArray();
        Assert.NotEqual(first, second);
        Assert.Equal(4, task.TokensPerBatch);                               // the job's tokens, for its throughput
    }

    [Fact]
    public void A_batch_that_does_not_split_evenly_is_refused() =>
        Assert.Throws<ArgumentException>(() => new ShardedTask(new NumberedRows(5), 5, 0, 2));
}
