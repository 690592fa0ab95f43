using AftLab.Models;
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
    public static byte[] Continue(ByteLanguageModel model, byte[] prompt, int context, int count, double temperature, int seed)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt must not be empty", nameof(prompt));
        var generator = new Generator((ulong)seed);
        var text = new List<byte>(prompt);
        model.eval();
        using var noGrad = no_grad();
        for (var i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var window = text.Skip(Math.Max(0, text.Count - context)).Select(b => (long)b).ToArray();
            var logits = model.forward(tensor(window).unsqueeze(0)).select(1, -1).squeeze(0);
            var next = multinomial((logits / temperature).softmax(0), 1, generator: generator).item<long>();
            text.Add((byte)next);
        }
        return text.Skip(prompt.Length).ToArray();
    }
}
