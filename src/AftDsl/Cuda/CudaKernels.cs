using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace AftDsl.Cuda;

/// <summary>
/// The library's CUDA kernels: their sources (embedded resources, <c>Cuda/Kernels/*.cu</c>), the compiler
/// that turns them into modules, and the modules compiled so far (one per source and set of constants).
/// </summary>
public static partial class CudaKernels
{
    static readonly ConcurrentDictionary<string, Lazy<ICudaModule>> modules = new();
    static ICudaCompiler? compiler;

    /// <summary>
    /// The compiler in use: NVRTC and the CUDA driver (<see cref="NvrtcCompiler"/>), created on first use;
    /// tests set a host emulation. Setting it forgets the modules compiled by the previous one.
    /// </summary>
    /// <exception cref="CudaException">On first use: the CUDA libraries could not be found or loaded.</exception>
    public static ICudaCompiler Compiler
    {
        get => compiler ?? Interlocked.CompareExchange(ref compiler, NvrtcCompiler.Create(), null) ?? compiler!;
        set { compiler = value; modules.Clear(); }
    }

    /// <summary>The compiler in use, or null if none was created or set yet (no attempt to create one).</summary>
    public static ICudaCompiler? CompilerIfCreated => compiler;

    /// <summary>The module of kernel source <paramref name="sourceName"/> (e.g. <c>aft_simple.cu</c>) compiled with <paramref name="defines"/>.</summary>
    public static ICudaModule Module(string sourceName, params (string Name, object Value)[] defines)
    {
        var constants = defines
            .Select(d => new KeyValuePair<string, string>(d.Name, Convert.ToString(d.Value, System.Globalization.CultureInfo.InvariantCulture)!))
            .ToArray();
        var active = Compiler;
        var key = sourceName + "|" + string.Join(";", constants.Select(c => $"{c.Key}={c.Value}"));
        return modules.GetOrAdd(key, _ => new Lazy<ICudaModule>(() => active.Compile(sourceName, Source(sourceName), constants))).Value;
    }

    /// <summary>The complete text of kernel source <paramref name="name"/>, with its <c>#include "…"</c> of our own headers inlined.</summary>
    /// <exception cref="ArgumentException">No kernel source or header has that name.</exception>
    public static string Source(string name)
    {
        var text = Resource(name);
        return IncludeLine().Replace(text, match => $"// ---- {match.Groups[1].Value} ----\n{Source(match.Groups[1].Value)}\n");
    }

    /// <summary>Names of the kernel sources and headers the library carries.</summary>
    public static IEnumerable<string> SourceNames =>
        typeof(CudaKernels).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..]);

    const string ResourcePrefix = "AftDsl.Cuda.Kernels.";

    static string Resource(string name)
    {
        using var stream = typeof(CudaKernels).Assembly.GetManifestResourceStream(ResourcePrefix + name)
            ?? throw new ArgumentException($"No CUDA kernel source named '{name}'; the library has: {string.Join(", ", SourceNames)}.", nameof(name));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex("""^[ \t]*#include[ \t]+"([^"]+)"[ \t]*$""", RegexOptions.Multiline)]
    private static partial Regex IncludeLine();
}
