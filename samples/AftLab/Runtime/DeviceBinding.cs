using System.Runtime.InteropServices;
using TorchSharp;

namespace AftLab.Runtime;

/// <summary>
/// Chooses the device. CPU works out of the box (TorchSharp-cpu). For CUDA, TorchSharp binds to an
/// ABI-compatible CUDA libtorch, such as the one inside a local PyTorch installation: pass its lib folder
/// with <c>--libtorch DIR</c> or the environment variable <c>AFTDSL_LIBTORCH</c>, or put it first on
/// LD_LIBRARY_PATH before starting the app.
/// </summary>
public static class DeviceBinding
{
    public const string LibTorchVariable = "AFTDSL_LIBTORCH";

    // Loaded in dependency order by full path, before TorchSharp's own loader asks for them by name:
    // the dynamic loader then reuses these instead of the CPU-only copies next to the app.
    static readonly string[] CudaLibraries = ["libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so"];

    /// <summary>Initialises <paramref name="device"/> ("cpu" or "cuda[:N]") and returns it, or throws with what failed and how to fix it.</summary>
    public static torch.Device Use(string device, string? libtorch)
    {
        var name = device.Trim().ToLowerInvariant();
        if (name == "cpu")
            return torch.CPU;
        if (!name.StartsWith("cuda", StringComparison.Ordinal))
            throw new ArgumentException($"Unknown device '{device}': use cpu or cuda (cuda:N for the N-th GPU).");

        var folder = libtorch ?? Environment.GetEnvironmentVariable(LibTorchVariable);
        if (!string.IsNullOrEmpty(folder))
            Preload(folder);
        try
        {
            torch.InitializeDeviceType(DeviceType.CUDA);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                $"CUDA was asked for but libtorch's CUDA backend could not be loaded: {e.GetBaseException().Message} " +
                $"TorchSharp-cpu carries no CUDA libraries: point the app at a CUDA libtorch with --libtorch DIR or {LibTorchVariable}=DIR " +
                "(for example the lib folder of an installed PyTorch: python3 -c 'import torch, os; print(os.path.dirname(torch.__file__) + \"/lib\")').", e);
        }
        if (!torch.cuda.is_available())
            throw new InvalidOperationException("CUDA libraries loaded, but no CUDA device is available (torch.cuda.is_available() is false): check the driver with nvidia-smi.");
        return torch.device(name);
    }

    static void Preload(string folder)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"The libtorch folder '{folder}' (from --libtorch or {LibTorchVariable}) does not exist.");
        foreach (var library in CudaLibraries)
        {
            var path = Path.Combine(folder, library);
            if (!File.Exists(path))
                throw new FileNotFoundException($"'{folder}' has no {library}: it is not the lib folder of a CUDA libtorch.", path);
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new InvalidOperationException($"Loading {path} failed: {e.Message}", e);
            }
        }
    }

    /// <summary>Waits for queued GPU work, so that timings measure the work and not its submission.</summary>
    public static void Synchronize(torch.Device device)
    {
        if (device.type == DeviceType.CUDA)
            torch.cuda.synchronize(device);
    }
}
