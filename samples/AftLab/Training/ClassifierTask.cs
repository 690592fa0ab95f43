using AftLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>
/// Image classification (the paper's ImageNet experiment): cross-entropy over 10 classes, top-1 on the test
/// split, and top-1 again on the test images zero-padded to a larger grid, which only a model without
/// absolute positions (AFT-conv) can take.
/// </summary>
public sealed class ClassifierTask(ImageSet images, int batch, int paddedSide) : ITrainingTask
{
    public string Metric => "nats";                                         // cross-entropy; top-1 comes from the evaluations

    public long TokensPerBatch => batch;

    public (Tensor Inputs, Tensor Targets) Batch(Random random, Device device)
    {
        var rows = Enumerable.Range(0, batch).Select(_ => random.Next(images.TrainImages.Count)).ToArray();
        return Pixels(images.TrainImages, images.TrainLabels, rows, device);
    }

    public Tensor Loss(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor targets) =>
        nn.functional.cross_entropy(model.forward(inputs), targets);

    public double ToMetric(double loss) => loss;

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, bool quick)
    {
        var results = new Dictionary<string, double> { ["test top-1"] = Accuracy(model, device, quick, 0) };
        if (paddedSide > images.Side)
        {
            try
            {
                results[$"test top-1 at {paddedSide}×{paddedSide}"] = Accuracy(model, device, quick, (paddedSide - images.Side) / 2);
            }
            catch (AftDsl.AftShapeException)
            {
                // A model with absolute positions cannot take another grid: that is the point of the comparison.
            }
        }
        return results;
    }

    double Accuracy(nn.Module<Tensor, Tensor> model, Device device, bool quick, int pad)
    {
        model.eval();
        using var noGrad = no_grad();
        var count = quick ? Math.Min(1000, images.TestImages.Count) : images.TestImages.Count;
        long correct = 0;
        foreach (var chunk in Enumerable.Range(0, count).Chunk(Math.Max(batch, 256)))
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = Pixels(images.TestImages, images.TestLabels, chunk, device);
            if (pad > 0) inputs = nn.functional.pad(inputs, [pad, pad, pad, pad], value: -1);   // −1 is black, the images' background
            correct += model.forward(inputs).argmax(1).eq(targets).sum().item<long>();
        }
        model.train();
        return (double)correct / count;
    }

    /// <summary>Images as <c>[B, 1, side, side]</c> floats in [−1, 1] and labels as int64.</summary>
    public static (Tensor Images, Tensor Labels) Pixels(IdxArray set, IdxArray labels, IReadOnlyList<int> rows, Device device)
    {
        var size = set.ItemSize;
        var side = set.Shape[1];
        var pixels = new float[rows.Count * size];
        var classes = new long[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            classes[r] = labels.Data[rows[r]];
            for (var i = 0; i < size; i++)
                pixels[r * size + i] = set.Data[(long)rows[r] * size + i] / 127.5f - 1;
        }
        return (tensor(pixels, [rows.Count, 1, side, side], device: device), tensor(classes, device: device));
    }
}
