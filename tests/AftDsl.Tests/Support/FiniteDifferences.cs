using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Tests.Support;

/// <summary>Central finite differences, the independent check of every hand-written or autograd gradient.</summary>
public static class FiniteDifferences
{
    /// <summary>
    /// ∂loss/∂x for every entry of <paramref name="x"/> (float64), by (loss(x + h) − loss(x − h)) / 2h.
    /// The entries are changed in place and restored.
    /// </summary>
    public static Tensor Gradient(Func<double> loss, Tensor x, double step = 1e-6)
    {
        using var noGrad = no_grad();
        var flat = x.view(-1);
        var gradient = new double[flat.shape[0]];
        for (long i = 0; i < flat.shape[0]; i++)
        {
            var original = flat[i].item<double>();
            flat[i].fill_(original + step);
            var plus = loss();
            flat[i].fill_(original - step);
            var minus = loss();
            flat[i].fill_(original);
            gradient[i] = (plus - minus) / (2 * step);
        }
        return tensor(gradient, dtype: float64).reshape(x.shape);
    }
}
