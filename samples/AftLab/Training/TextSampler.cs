using TorchSharp;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>Generates a continuation byte by byte, sampling from the model's softened distribution.</summary>
public static class TextSampler
{
    /// <param name="context">
    /// How many trailing bytes the model sees: the length it was trained on. Positions beyond it have
    /// position biases that training never touched.
    /// </param>
    public static byte[] Continue(nn.Module<Tensor, Tensor> model, byte[] prompt, int context, int count, double temperature, int seed, Device device)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt must not be empty", nameof(prompt));
        var generator = new Generator((ulong)seed, device);
        var text = new List<byte>(prompt);
        model.eval();
        using var noGrad = no_grad();
        for (var i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var window = text.Skip(Math.Max(0, text.Count - context)).Select(b => (long)b).ToArray();
            var logits = model.forward(tensor(window, device: device).unsqueeze(0)).select(1, -1).squeeze(0);
            text.Add((byte)multinomial((logits / temperature).softmax(0), 1, generator: generator).item<long>());
        }
        return text.Skip(prompt.Length).ToArray();
    }

    /// <summary>Bytes as printable text: other control and non-ASCII bytes become '·'.</summary>
    public static string Printable(byte[] bytes) =>
        new(bytes.Select(b => b is (byte)'\n' or (byte)'\t' || b is >= 32 and < 127 ? (char)b : '·').ToArray());
}
