using System.Runtime.InteropServices;
using System.Text;

namespace AftDsl.Cuda.Native;

/// <summary>
/// The NVRTC calls the compiler needs (nvrtc.h), bound as unmanaged function pointers to one loaded
/// libnvrtc, so that nothing is resolved before CUDA is actually used. None of these has a versioned
/// (<c>_v2</c>) symbol. NVRTC is safe to call from several threads, one program per thread.
/// </summary>
internal sealed unsafe class Nvrtc
{
    /// <summary><c>NVRTC_SUCCESS</c>.</summary>
    public const int Success = 0;

    /// <summary>The file it was loaded from.</summary>
    public string LibraryPath { get; }

    /// <summary>NVRTC's version, e.g. (13, 0).</summary>
    public (int Major, int Minor) Version { get; }

    /// <summary>The GPU architectures it can emit machine code for (e.g. 75, 80, 90), or empty if it cannot say.</summary>
    public IReadOnlyList<int> SupportedArchitectures { get; }

    readonly delegate* unmanaged<int, byte*> getErrorString;
    readonly delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> createProgram;
    readonly delegate* unmanaged<nint*, int> destroyProgram;
    readonly delegate* unmanaged<nint, int, byte**, int> compileProgram;
    readonly delegate* unmanaged<nint, nuint*, int> getProgramLogSize;
    readonly delegate* unmanaged<nint, byte*, int> getProgramLog;
    readonly delegate* unmanaged<nint, nuint*, int> getCubinSize;
    readonly delegate* unmanaged<nint, byte*, int> getCubin;
    readonly delegate* unmanaged<nint, nuint*, int> getPtxSize;
    readonly delegate* unmanaged<nint, byte*, int> getPtx;

    public Nvrtc(nint library, string path)
    {
        LibraryPath = path;
        getErrorString = (delegate* unmanaged<int, byte*>)NativeLoader.Export(library, "nvrtcGetErrorString", path);
        createProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)NativeLoader.Export(library, "nvrtcCreateProgram", path);
        destroyProgram = (delegate* unmanaged<nint*, int>)NativeLoader.Export(library, "nvrtcDestroyProgram", path);
        compileProgram = (delegate* unmanaged<nint, int, byte**, int>)NativeLoader.Export(library, "nvrtcCompileProgram", path);
        getProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)NativeLoader.Export(library, "nvrtcGetProgramLogSize", path);
        getProgramLog = (delegate* unmanaged<nint, byte*, int>)NativeLoader.Export(library, "nvrtcGetProgramLog", path);
        getCubinSize = (delegate* unmanaged<nint, nuint*, int>)NativeLoader.Export(library, "nvrtcGetCUBINSize", path);
        getCubin = (delegate* unmanaged<nint, byte*, int>)NativeLoader.Export(library, "nvrtcGetCUBIN", path);
        getPtxSize = (delegate* unmanaged<nint, nuint*, int>)NativeLoader.Export(library, "nvrtcGetPTXSize", path);
        getPtx = (delegate* unmanaged<nint, byte*, int>)NativeLoader.Export(library, "nvrtcGetPTX", path);

        var version = (delegate* unmanaged<int*, int*, int>)NativeLoader.Export(library, "nvrtcVersion", path);
        int major, minor;
        Check(version(&major, &minor), "nvrtcVersion");
        Version = (major, minor);
        SupportedArchitectures = ReadSupportedArchitectures(library);
    }

    static int[] ReadSupportedArchitectures(nint library)
    {
        // Both calls exist since NVRTC 11.2; without them the device's own architecture is simply tried.
        var count = (delegate* unmanaged<int*, int>)NativeLoader.OptionalExport(library, "nvrtcGetNumSupportedArchs");
        var list = (delegate* unmanaged<int*, int>)NativeLoader.OptionalExport(library, "nvrtcGetSupportedArchs");
        if (count == null || list == null) return [];
        int n;
        if (count(&n) != Success || n <= 0 || n > 1024) return [];
        var archs = new int[n];
        fixed (int* p = archs)
            if (list(p) != Success) return [];
        return archs;
    }

    /// <summary>What the compilation produces: machine code for one GPU (CUBIN) or PTX for the driver to translate.</summary>
    public enum Output { Cubin, Ptx }

    /// <summary>
    /// Compiles <paramref name="source"/> with <paramref name="options"/>. Returns the binary, or null with the
    /// compiler's log in <paramref name="log"/> when the source does not compile.
    /// </summary>
    /// <exception cref="CudaException">NVRTC itself failed (out of memory, builtins library missing, bad option).</exception>
    public byte[]? Compile(string name, string source, IReadOnlyList<string> options, Output output, out string log)
    {
        nint program = 0;
        var sourceBytes = Utf8(source);
        var nameBytes = Utf8(name);
        var optionBytes = options.Select(Utf8).ToArray();
        var handles = optionBytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            fixed (byte* src = sourceBytes)
            fixed (byte* file = nameBytes)
                Check(createProgram(&program, src, file, 0, null, null), "nvrtcCreateProgram");
            var pointers = stackalloc byte*[Math.Max(1, handles.Length)];
            for (var i = 0; i < handles.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
            var compiled = compileProgram(program, handles.Length, pointers);
            log = ProgramLog(program);
            if (compiled == CompilationError) return null;
            if (compiled != Success)
                throw new CudaException($"nvrtcCompileProgram failed in {LibraryPath}: {ErrorString(compiled)} (nvrtcResult {compiled})" +
                    (compiled == BuiltinOperationFailure ? "; its libnvrtc-builtins library must sit beside it" : "") +
                    (log.Length > 0 ? $":\n{log}" : "."));
            return output == Output.Cubin ? Read(program, getCubinSize, getCubin, "nvrtcGetCUBIN") : Read(program, getPtxSize, getPtx, "nvrtcGetPTX");
        }
        finally
        {
            foreach (var handle in handles) handle.Free();
            if (program != 0) destroyProgram(&program);
        }
    }

    /// <summary><c>NVRTC_ERROR_COMPILATION</c>: the source has errors (the log says which).</summary>
    const int CompilationError = 6;

    /// <summary><c>NVRTC_ERROR_BUILTIN_OPERATION_FAILURE</c>: typically libnvrtc-builtins could not be loaded.</summary>
    const int BuiltinOperationFailure = 7;

    string ProgramLog(nint program)
    {
        nuint size;
        if (getProgramLogSize(program, &size) != Success || size <= 1) return "";
        var buffer = new byte[(int)size];
        fixed (byte* p = buffer)
            if (getProgramLog(program, p) != Success) return "";
        return Encoding.UTF8.GetString(buffer, 0, Math.Max(0, buffer.Length - 1)).TrimEnd();
    }

    byte[] Read(nint program, delegate* unmanaged<nint, nuint*, int> size, delegate* unmanaged<nint, byte*, int> read, string call)
    {
        nuint length;
        Check(size(program, &length), call + "Size");
        if (length == 0) throw new CudaException($"{call}Size returned 0 bytes: NVRTC produced no code.");
        var binary = new byte[(int)length];
        fixed (byte* p = binary)
            Check(read(program, p), call);
        return binary;
    }

    void Check(int result, string call)
    {
        if (result != Success)
            throw new CudaException($"{call} failed in {LibraryPath}: {ErrorString(result)} (nvrtcResult {result}).");
    }

    /// <summary>NVRTC's name for <paramref name="result"/>.</summary>
    public string ErrorString(int result)
    {
        var text = getErrorString(result);
        return text == null ? "unknown error" : Marshal.PtrToStringUTF8((nint)text) ?? "unknown error";
    }

    static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text + "\0");
}
