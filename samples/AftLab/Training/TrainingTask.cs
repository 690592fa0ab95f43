using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>
/// What a model learns and how it is scored: batches for training, the loss, and the held-out metrics.
/// One per family of the paper's experiments (byte LM, pixel model, classifier).
/// </summary>
public interface ITrainingTask
{
    /// <summary>The running metric shown while training: "bits/byte", "bits/dim", or "nats" (the classifier's cross-entropy).</summary>
    string Metric { get; }

    /// <summary>Tokens (bytes, pixels, images) a training batch holds, for throughput.</summary>
    long TokensPerBatch { get; }

    /// <summary>One training batch on <paramref name="device"/>.</summary>
    (Tensor Inputs, Tensor Targets) Batch(Random random, Device device);

    /// <summary>Mean cross-entropy in nats.</summary>
    Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets);

    /// <summary>The metric of a loss value (nats → bits, or the loss itself).</summary>
    double ToMetric(double loss);

    /// <summary>Held-out metrics, named: e.g. "test bits/dim" or "test top-1".</summary>
    IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick);
}
