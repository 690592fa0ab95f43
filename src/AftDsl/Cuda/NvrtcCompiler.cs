namespace AftDsl.Cuda;

/// <summary>Compiles kernel sources with NVRTC and loads them with the CUDA driver, on the primary context PyTorch uses.</summary>
public sealed class NvrtcCompiler : ICudaCompiler
{
    /// <summary>Finds and loads NVRTC and the driver.</summary>
    /// <exception cref="CudaException">A library could not be found or loaded.</exception>
    public static NvrtcCompiler Create() => throw new CudaException("The NVRTC compiler is being written (placeholder of this session's work in progress).");

    /// <inheritdoc/>
    public string Description => "NVRTC";

    /// <inheritdoc/>
    public ICudaModule Compile(string name, string source, IReadOnlyList<KeyValuePair<string, string>> defines) => throw new CudaException("unavailable");
}
