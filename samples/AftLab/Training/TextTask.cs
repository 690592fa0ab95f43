using AftLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>Byte-level language modelling: next-byte cross-entropy, reported in bits per byte (bits/char for text).</summary>
public sealed class TextTask(ByteCorpus corpus, int batch, int context) : ITrainingTask
{
    public string Metric => "bits/byte";

    public long TokensPerBatch => (long)batch * context;

    public int Context => context;

    public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device)
    {
        var (inputs, targets) = corpus.TrainBatch(batch, context, random);
        return (inputs.to(device), targets.to(device));
    }

    public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets) =>
        nn.functional.cross_entropy(model.forward(inputs).reshape(-1, 256), targets.reshape(-1));

    public double ToMetric(double loss) => loss / Math.Log(2);

    /// <summary>Mean bits per byte over the held-out windows (the first 32 batches when <paramref name="quick"/>).</summary>
    public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick)
    {
        model.eval();
        using var noGrad = no_grad();
        double total = 0;
        long count = 0;
        // Evaluation needs no gradients, so it takes about 16k bytes per batch whatever the training batch.
        var evaluationBatch = Math.Max(batch, 16384 / context);
        foreach (var (inputs, targets) in corpus.Batches(corpus.Test, evaluationBatch, context, quick ? Math.Max(1, 32 * batch / evaluationBatch) : int.MaxValue))
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(inputs.to(device)).reshape(-1, 256);
            total += nn.functional.cross_entropy(logits, targets.to(device).reshape(-1), reduction: nn.Reduction.Sum).item<float>();
            count += targets.numel();
        }
        model.train();
        return new Dictionary<string, double> { ["held-out bits/byte"] = total / count / Math.Log(2) };
    }
}
