using System.Text;
using System.Text.RegularExpressions;
using AftDsl.Cuda.Native;

namespace AftDsl.Cuda;

/// <summary>
/// Finds and loads the two CUDA libraries the runtime needs: NVRTC (the run-time compiler) and libcuda (the
/// driver). NVRTC is searched for, in order:
/// <list type="number">
/// <item><c>AFTDSL_NVRTC</c>: a library file, or a folder holding one. When set, nothing else is tried.</item>
/// <item>Beside the libtorch this process loaded (a PyTorch install's <c>torch/lib</c>, found in the
/// process's memory map, and every <c>LD_LIBRARY_PATH</c> folder): the folder itself, then the NVIDIA
/// wheels next to it, <c>site-packages/nvidia/cu13/lib/libnvrtc.so.13</c> (CUDA 13),
/// <c>site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12</c> (CUDA 12) and any other
/// <c>site-packages/nvidia/*/lib/libnvrtc.so.*</c>.</item>
/// <item>A CUDA toolkit: <c>$CUDA_HOME/lib64</c>, <c>$CUDA_PATH/lib64</c>, <c>/usr/local/cuda/lib64</c>,
/// <c>/usr/local/cuda/targets/x86_64-linux/lib</c>.</item>
/// <item>The dynamic loader's own search by name: <c>libnvrtc.so.13</c>, <c>libnvrtc.so.12</c>, <c>libnvrtc.so</c>.</item>
/// </list>
/// The driver is <c>libcuda.so.1</c> from the loader's path (it comes with the NVIDIA driver, not with PyTorch).
/// </summary>
public static partial class CudaLibraryLocator
{
    /// <summary>The environment variable naming NVRTC's library file or folder.</summary>
    public const string NvrtcVariable = "AFTDSL_NVRTC";

    /// <summary>One place to try: a file path or a bare loader name, and why it is on the list.</summary>
    internal sealed record Candidate(string PathOrName, string Origin)
    {
        /// <summary>A bare name is left to the dynamic loader's search; a path is a file that may or may not exist.</summary>
        public bool IsLoaderName => !PathOrName.Contains('/');
    }

    /// <summary>What the search depends on: the environment and the libraries already loaded into the process.</summary>
    internal sealed record SearchInputs(Func<string, string?> Environment, IReadOnlyList<string> LoadedLibraries)
    {
        /// <summary>This process's environment and memory map.</summary>
        public static SearchInputs Current() => new(System.Environment.GetEnvironmentVariable, LoadedLibraryPaths());
    }

    /// <summary>A loaded library: its handle and the path (or loader name) it was loaded through.</summary>
    internal readonly record struct LoadedLibrary(nint Handle, string Path);

    /// <summary>Loads NVRTC from the first candidate that loads (<see cref="NvrtcCandidates"/>).</summary>
    /// <exception cref="CudaException">None loads: the message lists every candidate and why it failed.</exception>
    internal static LoadedLibrary LoadNvrtc(SearchInputs inputs)
    {
        var explicitSetting = inputs.Environment(NvrtcVariable);
        var hint = string.IsNullOrWhiteSpace(explicitSetting)
            ? $"Install PyTorch with CUDA (its nvidia-cuda-nvrtc wheel) or a CUDA toolkit, or set {NvrtcVariable} to libnvrtc.so's path or folder."
            : $"{NvrtcVariable}='{explicitSetting}' is set, so nothing else was searched: correct it or unset it.";
        return Load("NVRTC (libnvrtc, the CUDA run-time compiler)", NvrtcCandidates(inputs), hint);
    }

    /// <summary>Loads the CUDA driver library.</summary>
    /// <exception cref="CudaException">It does not load: no NVIDIA driver on this machine, or not on the loader's path.</exception>
    internal static LoadedLibrary LoadDriver() =>
        Load("the CUDA driver (libcuda)", [new("libcuda.so.1", "the NVIDIA driver"), new("libcuda.so", "the NVIDIA driver")],
            "libcuda.so.1 comes with the NVIDIA driver: check nvidia-smi, and that its folder is on the loader's path (ldconfig -p | grep libcuda).");

    /// <summary>Every place NVRTC is looked for, in the order they are tried.</summary>
    internal static IReadOnlyList<Candidate> NvrtcCandidates(SearchInputs inputs)
    {
        var candidates = new List<Candidate>();
        var explicitSetting = inputs.Environment(NvrtcVariable);
        if (!string.IsNullOrWhiteSpace(explicitSetting))
        {
            var origin = $"{NvrtcVariable}={explicitSetting}";
            if (Directory.Exists(explicitSetting)) candidates.AddRange(LibrariesIn(explicitSetting, origin, alwaysList: "libnvrtc.so"));
            else candidates.Add(new(explicitSetting, origin));
            return Distinct(candidates);
        }

        foreach (var folder in TorchLibraryFolders(inputs))
        {
            var origin = $"beside libtorch in {folder}";
            candidates.AddRange(LibrariesIn(folder, origin, alwaysList: null));
            var sitePackages = Path.GetFullPath(Path.Combine(folder, "..", ".."));
            var nvidia = Path.Combine(sitePackages, "nvidia");
            candidates.Add(new(Path.Combine(nvidia, "cu13", "lib", "libnvrtc.so.13"), origin));
            candidates.Add(new(Path.Combine(nvidia, "cuda_nvrtc", "lib", "libnvrtc.so.12"), origin));
            if (Directory.Exists(nvidia))
                foreach (var package in Directory.EnumerateDirectories(nvidia).Order(StringComparer.Ordinal))
                    candidates.AddRange(LibrariesIn(Path.Combine(package, "lib"), origin, alwaysList: null));
        }

        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
            if (inputs.Environment(variable) is { Length: > 0 } toolkit)
                candidates.AddRange(LibrariesIn(Path.Combine(toolkit, "lib64"), $"the CUDA toolkit in ${variable}", alwaysList: "libnvrtc.so"));
        foreach (var folder in new[] { "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib" })
            candidates.AddRange(LibrariesIn(folder, "the CUDA toolkit", alwaysList: "libnvrtc.so"));

        foreach (var name in new[] { "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so" })
            candidates.Add(new(name, "the dynamic loader's search path"));
        return Distinct(candidates);
    }

    /// <summary>
    /// Folders that hold the libtorch TorchSharp runs on: those of the loaded libtorch libraries, then the
    /// <c>LD_LIBRARY_PATH</c> entries (where a PyTorch lib folder is put to bind TorchSharp to it).
    /// </summary>
    internal static IReadOnlyList<string> TorchLibraryFolders(SearchInputs inputs)
    {
        var folders = new List<string>();
        foreach (var library in inputs.LoadedLibraries)
        {
            var file = Path.GetFileName(library);
            if (TorchLibraryName().IsMatch(file) && Path.GetDirectoryName(library) is { Length: > 0 } folder) folders.Add(folder);
        }
        foreach (var entry in (inputs.Environment("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            folders.Add(entry.TrimEnd('/'));
        return folders.Select(f => Path.GetFullPath(f)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// NVRTC libraries in <paramref name="folder"/>, newest major version first (one file per version);
    /// <paramref name="alwaysList"/>, when given, is listed even where the folder has nothing, so that errors show it was looked at.
    /// </summary>
    static IEnumerable<Candidate> LibrariesIn(string folder, string origin, string? alwaysList)
    {
        var found = Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder).Where(f => NvrtcFileName().IsMatch(Path.GetFileName(f))).ToList()
            : [];
        var newestFirst = found
            .Select(f => (File: f, Version: VersionOf(Path.GetFileName(f))))
            .OrderByDescending(f => f.Version.Major).ThenBy(f => f.Version.Parts).ThenBy(f => f.File, StringComparer.Ordinal)
            .GroupBy(f => f.Version.Major).Select(g => g.First().File)
            .ToList();
        foreach (var file in newestFirst) yield return new(file, origin);
        if (alwaysList is not null && newestFirst.Count == 0) yield return new(Path.Combine(folder, alwaysList), origin);
    }

    // libnvrtc.so.13 has parts [13]; libnvrtc.so.13.0.88 has [13, 0, 88]: the shorter soname sorts first.
    static (int Major, int Parts) VersionOf(string file)
    {
        var suffix = file[(file.IndexOf(".so", StringComparison.Ordinal) + 3)..];
        var parts = suffix.Split('.', StringSplitOptions.RemoveEmptyEntries);
        return (parts.Length > 0 && int.TryParse(parts[0], out var major) ? major : -1, parts.Length);
    }

    static List<Candidate> Distinct(List<Candidate> candidates) =>
        candidates.DistinctBy(c => c.PathOrName, StringComparer.Ordinal).ToList();

    /// <summary>Loads the first candidate that loads; otherwise throws with every candidate and its failure.</summary>
    internal static LoadedLibrary Load(string what, IReadOnlyList<Candidate> candidates, string hint)
    {
        var failures = new List<(Candidate Candidate, string Reason)>();
        foreach (var candidate in candidates)
        {
            if (!candidate.IsLoaderName && !File.Exists(candidate.PathOrName))
            {
                failures.Add((candidate, "no such file"));
                continue;
            }
            if (NativeLoader.TryLoad(candidate.PathOrName, out var handle, out var error))
                return new(handle, candidate.IsLoaderName ? FileLoadedAs(candidate.PathOrName) : candidate.PathOrName);
            failures.Add((candidate, error));
        }
        throw new CudaException(NotFoundMessage(what, failures, hint));
    }

    static string NotFoundMessage(string what, List<(Candidate Candidate, string Reason)> failures, string hint)
    {
        var text = new StringBuilder($"Could not load {what}. Tried, in order:");
        foreach (var group in failures.GroupBy(f => f.Candidate.Origin))
        {
            text.Append("\n  ").Append(group.Key).Append(':');
            foreach (var (candidate, reason) in group) text.Append("\n    ").Append(candidate.PathOrName).Append(" — ").Append(reason);
        }
        if (failures.Count == 0) text.Append(" nothing (no candidates).");
        return text.Append('\n').Append(hint).ToString();
    }

    /// <summary>
    /// Loads NVRTC's builtins library (<c>libnvrtc-builtins.so.*</c>) from beside <paramref name="nvrtcPath"/>, if
    /// there is one. NVRTC opens it by name at its first compilation; once loaded here, that name resolves to
    /// this copy even where the folder is not on the loader's path.
    /// </summary>
    internal static void PreloadBuiltins(string nvrtcPath, (int Major, int Minor) version)
    {
        if (!nvrtcPath.Contains('/') || Path.GetDirectoryName(nvrtcPath) is not { Length: > 0 } folder || !Directory.Exists(folder)) return;
        var prefix = $"libnvrtc-builtins.so.{version.Major}.{version.Minor}";
        var builtins = Directory.EnumerateFiles(folder, "libnvrtc-builtins.so.*")
            .OrderByDescending(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal))
            .ThenBy(f => f.Length)
            .FirstOrDefault();
        if (builtins is not null) NativeLoader.TryLoad(builtins, out _, out _);
    }

    /// <summary>The file the loader chose for <paramref name="name"/> (found in the memory map), or the name itself if it cannot tell.</summary>
    static string FileLoadedAs(string name) =>
        LoadedLibraryPaths().FirstOrDefault(path => Path.GetFileName(path).StartsWith(name, StringComparison.Ordinal)) ?? name;

    /// <summary>The files mapped into this process (Linux: <c>/proc/self/maps</c>); empty elsewhere.</summary>
    internal static IReadOnlyList<string> LoadedLibraryPaths()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return [];
        try
        {
            var paths = new List<string>();
            foreach (var line in File.ReadLines(maps))
            {
                var slash = line.IndexOf('/');
                if (slash >= 0 && line.Contains(".so", StringComparison.Ordinal)) paths.Add(line[slash..].Trim());
            }
            return paths.Distinct(StringComparer.Ordinal).ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    [GeneratedRegex(@"^lib(torch|torch_cuda|torch_cpu|c10|c10_cuda)\.so(\.\d+)*$")]
    private static partial Regex TorchLibraryName();

    // libnvrtc.so.13, libnvrtc.so.12.8.93, and PyTorch's bundled copies renamed with a hash (libnvrtc-1a2b3c4d.so.12);
    // not libnvrtc-builtins.* (NVRTC's helper) nor libnvrtc.alt.* (a variant for static linking).
    [GeneratedRegex(@"^libnvrtc(-[0-9a-f]{8})?\.so(\.\d+)*$")]
    private static partial Regex NvrtcFileName();
}
