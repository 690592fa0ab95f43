using System.Runtime.InteropServices;

namespace AftDsl.Cuda.Native;

/// <summary>
/// Loads shared libraries by path or loader name and reports why one failed in a line fit for an error
/// message: the dynamic loader's own words (dlerror), without .NET's generic advice around them.
/// </summary>
internal static class NativeLoader
{
    /// <summary>Loads <paramref name="pathOrName"/>; on failure returns false and why in <paramref name="error"/>.</summary>
    public static bool TryLoad(string pathOrName, out nint handle, out string error)
    {
        try
        {
            handle = NativeLibrary.Load(pathOrName);
            error = "";
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
        {
            handle = 0;
            error = LoaderReason(e.Message);
            return false;
        }
    }

    /// <summary>The dynamic loader's explanation inside a .NET load failure message.</summary>
    internal static string LoaderReason(string message)
    {
        // .NET wraps dlerror's lines in advice about strace and LD_DEBUG; the lines after the colon are what matter.
        const string marker = "environment variable:";
        var at = message.IndexOf(marker, StringComparison.Ordinal);
        var reason = at < 0 ? message : message[(at + marker.Length)..];
        return string.Join("; ", reason.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>The address of <paramref name="symbol"/> in <paramref name="library"/>.</summary>
    /// <exception cref="CudaException">The library does not export it (too old, or not the library it claims to be).</exception>
    public static nint Export(nint library, string symbol, string libraryPath) =>
        NativeLibrary.TryGetExport(library, symbol, out var address) ? address
            : throw new CudaException($"{libraryPath} does not export {symbol}: it is not a usable {Path.GetFileName(libraryPath)} (too old, or another library of that name).");

    /// <summary>The address of <paramref name="symbol"/>, or 0 where the library does not export it.</summary>
    public static nint OptionalExport(nint library, string symbol) =>
        NativeLibrary.TryGetExport(library, symbol, out var address) ? address : 0;
}
