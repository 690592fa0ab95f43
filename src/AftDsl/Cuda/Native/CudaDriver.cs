using System.Runtime.InteropServices;
using System.Text;

namespace AftDsl.Cuda.Native;

/// <summary>
/// The CUDA driver API calls the runtime needs (cuda.h), bound as unmanaged function pointers to libcuda.
/// Symbols are the exported names: cuda.h maps a few API names to versioned symbols, and of those used
/// here only <c>cuCtxPushCurrent</c>/<c>cuCtxPopCurrent</c> are <c>_v2</c>; the plain <c>cuCtxGetDevice</c> is
/// the one-argument form every driver keeps (CUDA 13's header also offers a two-argument <c>_v2</c>).
/// </summary>
internal sealed unsafe class CudaDriver
{
    /// <summary><c>CUDA_SUCCESS</c>.</summary>
    public const int Success = 0;

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR</c>.</summary>
    public const int ComputeCapabilityMajor = 75;

    /// <summary><c>CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR</c>.</summary>
    public const int ComputeCapabilityMinor = 76;

    /// <summary><c>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES</c>: opt-in above the default 48 KiB.</summary>
    public const int MaxDynamicSharedSizeBytes = 8;

    /// <summary>The file or loader name it was loaded from.</summary>
    public string LibraryPath { get; }

    readonly delegate* unmanaged<uint, int> cuInit;
    readonly delegate* unmanaged<int*, int> cuDriverGetVersion;
    readonly delegate* unmanaged<int*, int> cuDeviceGetCount;
    readonly delegate* unmanaged<int*, int, int> cuDeviceGet;
    readonly delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    readonly delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    readonly delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    readonly delegate* unmanaged<nint*, int> cuCtxGetCurrent;
    readonly delegate* unmanaged<nint, int> cuCtxSetCurrent;
    readonly delegate* unmanaged<nint, int> cuCtxPushCurrent;
    readonly delegate* unmanaged<nint*, int> cuCtxPopCurrent;
    readonly delegate* unmanaged<int*, int> cuCtxGetDevice;
    readonly delegate* unmanaged<nint*, void*, int> cuModuleLoadData;
    readonly delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    readonly delegate* unmanaged<nint, int, int, int> cuFuncSetAttribute;
    readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, nint, nint, int> cuLaunchKernel;
    readonly delegate* unmanaged<int, byte**, int> cuGetErrorName;
    readonly delegate* unmanaged<int, byte**, int> cuGetErrorString;

    public CudaDriver(nint library, string path)
    {
        LibraryPath = path;
        nint Bind(string symbol) => NativeLoader.Export(library, symbol, path);
        cuInit = (delegate* unmanaged<uint, int>)Bind("cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)Bind("cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)Bind("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)Bind("cuDeviceGet");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)Bind("cuDeviceGetAttribute");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)Bind("cuDeviceGetName");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)Bind("cuDevicePrimaryCtxRetain");
        cuCtxGetCurrent = (delegate* unmanaged<nint*, int>)Bind("cuCtxGetCurrent");
        cuCtxSetCurrent = (delegate* unmanaged<nint, int>)Bind("cuCtxSetCurrent");
        cuCtxPushCurrent = (delegate* unmanaged<nint, int>)Bind("cuCtxPushCurrent_v2");
        cuCtxPopCurrent = (delegate* unmanaged<nint*, int>)Bind("cuCtxPopCurrent_v2");
        cuCtxGetDevice = (delegate* unmanaged<int*, int>)Bind("cuCtxGetDevice");
        cuModuleLoadData = (delegate* unmanaged<nint*, void*, int>)Bind("cuModuleLoadData");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)Bind("cuModuleGetFunction");
        cuFuncSetAttribute = (delegate* unmanaged<nint, int, int, int>)Bind("cuFuncSetAttribute");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, nint, nint, int>)Bind("cuLaunchKernel");
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)Bind("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<int, byte**, int>)Bind("cuGetErrorString");
    }

    /// <summary><c>cuInit(0)</c>: safe to repeat, and PyTorch has usually called it already.</summary>
    public void Init() => Check(cuInit(0), "cuInit");

    /// <summary>The newest CUDA version the driver supports, e.g. 13000.</summary>
    public int DriverVersion()
    {
        int version;
        Check(cuDriverGetVersion(&version), "cuDriverGetVersion");
        return version;
    }

    /// <summary>How many CUDA devices the driver sees.</summary>
    public int DeviceCount()
    {
        int count;
        Check(cuDeviceGetCount(&count), "cuDeviceGetCount");
        return count;
    }

    /// <summary>The device handle of ordinal <paramref name="ordinal"/>.</summary>
    public int Device(int ordinal)
    {
        int device;
        Check(cuDeviceGet(&device, ordinal), $"cuDeviceGet({ordinal})");
        return device;
    }

    /// <summary>The compute capability of <paramref name="device"/>, e.g. (9, 0) for an H100 or H200.</summary>
    public (int Major, int Minor) ComputeCapability(int device)
    {
        int major, minor;
        Check(cuDeviceGetAttribute(&major, ComputeCapabilityMajor, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)");
        Check(cuDeviceGetAttribute(&minor, ComputeCapabilityMinor, device), "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)");
        return (major, minor);
    }

    /// <summary>The product name of <paramref name="device"/>, e.g. "NVIDIA H200".</summary>
    public string DeviceName(int device)
    {
        var buffer = stackalloc byte[256];
        Check(cuDeviceGetName(buffer, 256, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)buffer) ?? "";
    }

    /// <summary>The device's primary context, the one PyTorch uses (retained: it stays alive while the process runs).</summary>
    public nint RetainPrimaryContext(int device)
    {
        nint context;
        Check(cuDevicePrimaryCtxRetain(&context, device), $"cuDevicePrimaryCtxRetain(device {device})");
        return context;
    }

    /// <summary>The context current on the calling thread, or 0 if none is.</summary>
    public nint CurrentContext()
    {
        nint context;
        Check(cuCtxGetCurrent(&context), "cuCtxGetCurrent");
        return context;
    }

    /// <summary>Makes <paramref name="context"/> current on the calling thread (replacing the top of its stack).</summary>
    public void SetCurrentContext(nint context) => Check(cuCtxSetCurrent(context), "cuCtxSetCurrent");

    /// <summary>Pushes <paramref name="context"/> on the calling thread's stack, over the one current now.</summary>
    public void PushContext(nint context) => Check(cuCtxPushCurrent(context), "cuCtxPushCurrent");

    /// <summary>Pops the calling thread's current context, making the one beneath current again.</summary>
    public void PopContext()
    {
        nint popped;
        Check(cuCtxPopCurrent(&popped), "cuCtxPopCurrent");
    }

    /// <summary>The device of the current context.</summary>
    public int CurrentDevice()
    {
        int device;
        Check(cuCtxGetDevice(&device), "cuCtxGetDevice");
        return device;
    }

    /// <summary>Loads a CUBIN (or NUL-terminated PTX) into the current context.</summary>
    public nint LoadModule(byte[] image, string name)
    {
        nint module;
        fixed (byte* p = image)
            Check(cuModuleLoadData(&module, p), $"cuModuleLoadData({name}, {image.Length} bytes)");
        return module;
    }

    /// <summary>The kernel <paramref name="kernel"/> of <paramref name="module"/>.</summary>
    public nint Function(nint module, string kernel, string moduleName)
    {
        nint function;
        var name = Encoding.ASCII.GetBytes(kernel + "\0");
        fixed (byte* p = name)
            Check(cuModuleGetFunction(&function, module, p), $"cuModuleGetFunction({moduleName}: {kernel}; is it extern \"C\" __global__?)");
        return function;
    }

    /// <summary>Lets <paramref name="function"/> take up to <paramref name="bytes"/> of dynamic shared memory.</summary>
    public void AllowDynamicSharedMemory(nint function, int bytes, string kernel) =>
        Check(cuFuncSetAttribute(function, MaxDynamicSharedSizeBytes, bytes), $"cuFuncSetAttribute({kernel}, MAX_DYNAMIC_SHARED_SIZE_BYTES, {bytes})");

    /// <summary><c>cuLaunchKernel</c> on <paramref name="stream"/>; returns the <c>CUresult</c> for the caller to report.</summary>
    public int Launch(nint function, Dim3 grid, Dim3 block, uint sharedBytes, nint stream, nint parameters) =>
        cuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, stream, parameters, 0);

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is success.</summary>
    public void Check(int result, string call)
    {
        if (result != Success) throw new CudaException($"{call} failed: {Describe(result)}.");
    }

    /// <summary>"CUDA_ERROR_X (text, CUresult N)".</summary>
    public string Describe(int result)
    {
        byte* name = null, text = null;
        var hasName = cuGetErrorName(result, &name) == Success && name != null;
        var hasText = cuGetErrorString(result, &text) == Success && text != null;
        return $"{(hasName ? Marshal.PtrToStringUTF8((nint)name) : "unknown CUresult")}" +
               $"{(hasText ? $": {Marshal.PtrToStringUTF8((nint)text)}" : "")} (CUresult {result})";
    }
}
