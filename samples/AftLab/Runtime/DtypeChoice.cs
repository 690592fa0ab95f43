using TorchSharp;

namespace AftLab.Runtime;

/// <summary>
/// The <c>--dtype</c> of <c>train</c> and <c>throughput</c>, spelled as torch spells the types: float32, or bfloat16. One
/// parser, so that the two verbs accept the same values and refuse others with the same line.
/// </summary>
public static class DtypeChoice
{
    public const string Float32 = "float32";
    public const string BFloat16 = "bfloat16";

    /// <summary>Null if <paramref name="dtype"/> is one of the two, else what is wrong with it.</summary>
    public static string? Problem(string dtype) =>
        dtype is Float32 or BFloat16 ? null : $"--dtype must be {Float32} or {BFloat16}, got '{dtype}'.";

    /// <summary>The scalar type of a value <see cref="Problem"/> accepts.</summary>
    public static torch.ScalarType Parse(string dtype) => dtype switch
    {
        Float32 => torch.ScalarType.Float32,
        BFloat16 => torch.ScalarType.BFloat16,
        _ => throw new ArgumentException(Problem(dtype)),
    };
}
