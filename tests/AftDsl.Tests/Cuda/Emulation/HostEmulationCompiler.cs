using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AftDsl.Cuda;

namespace AftDsl.Tests.Cuda.Emulation;

/// <summary>
/// Compiles the library's CUDA kernel sources as C++ for the host (g++ with <c>cuda_host_emulation.h</c>),
/// so that the CUDA path's C# code and kernels run on CPU tensors in CI. Shared objects are cached under
/// the temp folder by a hash of source and constants. Launches are serialised: the emulation's
/// <c>__shared__</c> arrays are static, one copy per kernel.
/// </summary>
public sealed partial class HostEmulationCompiler : ICudaCompiler
{
    static readonly object launchLock = new();
    static readonly string header = Path.Combine(AppContext.BaseDirectory, "Cuda", "Emulation", "cuda_host_emulation.h");
    static readonly string cacheFolder = Path.Combine(Path.GetTempPath(), "aftdsl-cuda-emulation");

    /// <summary>One instance is enough: compiled modules are cached by <see cref="CudaKernels"/>.</summary>
    public static readonly HostEmulationCompiler Instance = new();

    /// <inheritdoc/>
    public string Description => "host emulation (g++, one host thread per CUDA thread)";

    /// <inheritdoc/>
    public ICudaModule Compile(string name, string source, IReadOnlyList<KeyValuePair<string, string>> defines)
    {
        var text = new StringBuilder();
        text.Append("#include \"").Append(header).Append("\"\n");
        foreach (var (key, value) in defines) text.Append("#define ").Append(key).Append(' ').Append(value).Append('\n');
        text.Append("#line 1 \"").Append(name).Append("\"\n").Append(source).Append("\nAFT_EMU_BEGIN\n");
        foreach (Match kernel in KernelName().Matches(source)) text.Append("AFT_EMU_KERNEL(").Append(kernel.Groups[1].Value).Append(")\n");
        text.Append("AFT_EMU_END\n");
        var code = text.ToString();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(" ", Flags) + code + File.ReadAllText(header))))[..16];
        Directory.CreateDirectory(cacheFolder);
        var library = Path.Combine(cacheFolder, $"{Path.GetFileNameWithoutExtension(name)}-{hash}.so");
        if (!File.Exists(library)) Build(name, code, library);
        return new Module(name, NativeLibrary.Load(library));
    }

    // -pedantic-errors: NVRTC rejects what GNU C++ merely allows (zero-size arrays, for one), so the
    // emulation must reject it too, or a kernel that passes here fails to compile on the GPU.
    static readonly string[] Flags = ["-std=c++20", "-O1", "-g0", "-shared", "-fPIC", "-pthread", "-pedantic-errors", "-Wno-unused"];

    static void Build(string name, string code, string library)
    {
        var sourceFile = library[..^3] + $".{Environment.ProcessId}.cpp";
        var temporary = library + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(sourceFile, code);
        var start = new ProcessStartInfo("g++", [.. Flags, "-o", temporary, sourceFile])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start) ?? throw new CudaException("could not start g++ for the CUDA host emulation");
        var log = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new CudaException($"{name} does not compile under the host emulation (g++ exit {process.ExitCode}):\n{log.Result}");
        File.Move(temporary, library, overwrite: true);
        File.Delete(sourceFile);
    }

    [GeneratedRegex("""extern\s+"C"\s+__global__\s+(?:__launch_bounds__\([^)]*\)\s+)?void\s+(\w+)\s*\(""")]
    private static partial Regex KernelName();

    sealed unsafe class Module(string name, nint library) : ICudaModule
    {
        readonly delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, nint, int> launch =
            (delegate* unmanaged<byte*, uint, uint, uint, uint, uint, uint, uint, nint, int>)NativeLibrary.GetExport(library, "aft_emu_launch");
        readonly delegate* unmanaged<byte*> lastError = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(library, "aft_emu_last_error");

        public void Launch(string kernel, Dim3 grid, Dim3 block, uint sharedBytes, KernelArguments arguments)
        {
            var bytes = Encoding.ASCII.GetBytes(kernel + "\0");
            int status;
            string? error = null;
            lock (launchLock)
            {
                fixed (byte* kernelName = bytes)
                    status = launch(kernelName, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, arguments.Pointers);
                if (status != 0) error = Marshal.PtrToStringUTF8((nint)lastError());
            }
            if (status != 0) throw new CudaException($"{name}: emulated launch of {kernel} on grid {grid}, block {block} failed: {error}");
        }
    }
}
