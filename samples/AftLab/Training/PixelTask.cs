using AftLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>
/// Autoregressive image modelling over flattened pixels (the paper's CIFAR10 experiment): each image is a
/// sequence of side² grey levels, a 256-way softmax per pixel, reported in bits per dimension. The input is
/// the image shifted right by one with a 0 in front, so that every pixel, the first included, is predicted.
/// </summary>
public sealed class PixelTask(ImageSet images, int batch) : ITrainingTask
{
    int Pixels => images.TrainImages.ItemSize;

    public string Metric => "bits/dim";

    public long TokensPerBatch => (long)batch * Pixels;

    public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device)
    {
        var rows = Enumerable.Range(0, batch).Select(_ => random.Next(images.TrainImages.Count)).ToArray();
        return Sequences(images.TrainImages, rows, device);
    }

    public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets) =>
        nn.functional.cross_entropy(model.forward(inputs).reshape(-1, 256), targets.reshape(-1));

    public double ToMetric(double loss) => loss / Math.Log(2);

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick)
    {
        model.eval();
        using var noGrad = no_grad();
        var count = quick ? Math.Min(512, images.TestImages.Count) : images.TestImages.Count;
        double total = 0;
        foreach (var chunk in Enumerable.Range(0, count).Chunk(Math.Max(batch, 32)))
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = Sequences(images.TestImages, chunk, device);
            total += nn.functional.cross_entropy(model.forward(inputs).reshape(-1, 256), targets.reshape(-1), reduction: nn.Reduction.Sum).item<float>();
        }
        model.train();
        return new Dictionary<string, double> { ["test bits/dim"] = total / ((double)count * Pixels) / Math.Log(2) };
    }

    /// <summary>Images <paramref name="rows"/> as (shifted inputs, targets), <c>[B, side²]</c> int64.</summary>
    public static (Tensor Inputs, Tensor Targets) Sequences(IdxArray set, IReadOnlyList<int> rows, Device device)
    {
        var size = set.ItemSize;
        var targets = new long[rows.Count * size];
        for (var r = 0; r < rows.Count; r++)
            for (var i = 0; i < size; i++)
                targets[r * size + i] = set.Data[(long)rows[r] * size + i];
        var target = tensor(targets, [rows.Count, size], device: device);
        var input = nn.functional.pad(target.narrow(1, 0, size - 1), [1, 0], value: 0);
        return (input, target);
    }
}
