using System.Runtime.InteropServices;

namespace AftDsl.Distributed.Native;

/// <summary>
/// Opens a shared library with <c>RTLD_GLOBAL</c>. Open MPI loads its components (<c>mca_*.so</c>) with dlopen, and they
/// resolve symbols of libmpi and libopen-pal from the global scope; .NET's <see cref="NativeLibrary.Load(string)"/> opens
/// with <c>RTLD_LOCAL</c>, which leaves those symbols unresolved (the problem mpi4py works around the same way).
/// </summary>
internal static partial class GlobalLibrary
{
    const int RtldNow = 0x2;
    const int RtldGlobal = 0x100;

    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int mode);

    [LibraryImport("libc", EntryPoint = "dlerror")]
    private static partial nint DlError();

    /// <summary>Opens <paramref name="pathOrName"/>; on failure returns false with the dynamic loader's reason.</summary>
    public static bool TryLoad(string pathOrName, out nint handle, out string error)
    {
        if (!OperatingSystem.IsLinux())
        {
            var loaded = AftDsl.Cuda.Native.NativeLoader.TryLoad(pathOrName, out handle, out error);
            return loaded;
        }
        handle = DlOpen(pathOrName, RtldNow | RtldGlobal);
        error = handle == 0 ? Marshal.PtrToStringUTF8(DlError()) ?? "dlopen failed" : "";
        return handle != 0;
    }
}
