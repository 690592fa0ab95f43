using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>
/// One rank's share of a data-parallel job's batches. Every rank draws the combined batch of the job from the same
/// seeded <see cref="Random"/> (the draw one process with a world-size-times-larger --batch would make, so that the two
/// are equivalent) and keeps rows [rank·b, (rank + 1)·b): the shares are disjoint and together are that batch. Only the
/// rows' data is drawn in full (bytes or pixels, small beside a step's activations); the model sees its share only.
/// </summary>
/// <param name="combined">The task with the combined batch (world size × the per-rank batch).</param>
public sealed class ShardedTask(ITrainingTask combined, int combinedBatch, int rank, int worldSize) : ITrainingTask
{
    readonly int share = combinedBatch % worldSize == 0 && rank >= 0 && rank < worldSize
        ? combinedBatch / worldSize
        : throw new ArgumentException($"A combined batch of {combinedBatch} does not split into {worldSize} equal shares (rank {rank}).");

    public string Metric => combined.Metric;

    /// <summary>The tokens of the combined batch: all ranks' together, for the job's throughput.</summary>
    public long TokensPerBatch => combined.TokensPerBatch;

    public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device)
    {
        var (inputs, targets) = combined.Batch(random, CPU);
        using (inputs)
        using (targets)
            return (Share(inputs).to(device), Share(targets).to(device));
    }

    Tensor Share(Tensor rows) => rows.narrow(0, (long)rank * share, share).contiguous();

    public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets) => combined.Loss(model, inputs, targets);

    public double ToMetric(double loss) => combined.ToMetric(loss);

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick) => combined.Evaluate(model, device, quick);
}
