namespace AftDsl.Cuda;

/// <summary>A CUDA library could not be found or loaded, a kernel failed to compile, or a CUDA call failed.</summary>
public sealed class CudaException(string message, Exception? inner = null) : Exception(message, inner);
