using System.Runtime.InteropServices;
using AftDsl.Cuda;
using Xunit;

namespace AftDsl.Tests.Cuda;

/// <summary>Creating the NVRTC compiler where CUDA may be missing: the kernels' dispatch relies on its failures being <see cref="CudaException"/>s.</summary>
public sealed class NvrtcCompilerTests
{
    [Fact]
    public void Create_succeeds_or_fails_with_a_CudaException_that_says_which_library_is_missing()
    {
        var hasDriver = NativeLibrary.TryLoad("libcuda.so.1", out var driver);
        if (hasDriver) NativeLibrary.Free(driver);

        NvrtcCompiler? compiler = null;
        var error = Record.Exception(() => compiler = NvrtcCompiler.Create());

        if (error is null)
        {
            Assert.True(hasDriver, "NvrtcCompiler.Create succeeded without libcuda.so.1");
            Assert.Contains("NVRTC", compiler!.Description);
            return;
        }
        var cuda = Assert.IsType<CudaException>(error);
        if (!hasDriver)
        {
            Assert.Contains("the CUDA driver (libcuda)", cuda.Message);
            Assert.Contains("libcuda.so.1 — ", cuda.Message);
            Assert.Contains("nvidia-smi", cuda.Message);
        }
    }
}
