using AftDsl.Decoding;
using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>Draws images pixel by pixel from a causal pixel model, in raster order.</summary>
public static class PixelSampler
{
    /// <summary>
    /// <paramref name="count"/> images of <paramref name="pixels"/> grey levels, <c>[count, pixels]</c> bytes.
    /// The model's input is the image so far shifted right behind a 0 (as in training): step i feeds the pixel drawn
    /// at step i − 1 (0 at first) and samples pixel i. A model with the generated decoding API does this one pixel per
    /// <c>Step</c>, all images in one batch; any other is run again over the prefix (i + 1 positions) at each step.
    /// </summary>
    public static byte[,] Draw(nn.Module<Tensor, Tensor> model, int count, int pixels, double temperature, int seed, Device device, Action<double>? progress = null)
    {
        // Pixels are drawn on the CPU: TorchSharp's Generator(seed, device) is a CPU generator whatever the device, and
        // multinomial refuses a CPU generator for probabilities on a GPU.
        var generator = new Generator((ulong)seed);
        model.eval();
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var sequence = zeros([count, pixels + 1], ScalarType.Int64, device);
        using var state = (model as IDecodingModel)?.BeginDecoding(count);
        for (var i = 0; i < pixels; i++)
        {
            using var scope = NewDisposeScope();
            var logits = state is not null
                ? ((IDecodingModel)model).Step(sequence.select(1, i), state)
                : model.forward(sequence.narrow(1, 0, i + 1)).select(1, i);
            var drawn = multinomial((logits / temperature).softmax(1).cpu(), 1, generator: generator);
            sequence.narrow(1, i + 1, 1).copy_(drawn);
            progress?.Invoke((i + 1.0) / pixels);
        }
        var values = sequence.narrow(1, 1, pixels).to(ScalarType.Byte).cpu().data<byte>().ToArray();
        var images = new byte[count, pixels];
        Buffer.BlockCopy(values, 0, images, 0, values.Length);
        return images;
    }
}
