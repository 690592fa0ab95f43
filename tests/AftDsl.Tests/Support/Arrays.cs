using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Tests.Support;

/// <summary>Moves tensors to plain C# arrays so references can be written as explicit loops.</summary>
public static class Arrays
{
    public static double[] Flat(Tensor tensor) => tensor.detach().to(float64).contiguous().data<double>().ToArray();

    public static Tensor FromFlat(double[] values, long[] shape) => tensor(values, dtype: float64).reshape(shape);
}
