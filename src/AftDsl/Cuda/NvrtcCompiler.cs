using System.Collections.Concurrent;
using AftDsl.Cuda.Native;

namespace AftDsl.Cuda;

/// <summary>
/// Compiles kernel sources with NVRTC and loads them with the CUDA driver, in the primary context PyTorch
/// uses. Binaries come from the disk cache (<see cref="CubinCache"/>) when an identical compilation was
/// done before, by this process or an earlier one. Each module is compiled when it is created, for the device
/// whose context was current when the compiler was created (device 0 if none was), and loaded at its first
/// launch on each device (compiled again there if that device has another architecture).
/// </summary>
public sealed class NvrtcCompiler : ICudaCompiler
{
    readonly CudaDriver driver;
    readonly Nvrtc nvrtc;
    readonly CubinCache cache;
    readonly ConcurrentDictionary<int, DeviceTarget> targets = new();
    readonly ConcurrentDictionary<string, bool> reportedCacheProblems = new();

    NvrtcCompiler(CudaDriver driver, Nvrtc nvrtc, CubinCache cache)
    {
        this.driver = driver;
        this.nvrtc = nvrtc;
        this.cache = cache;
        Contexts = new CudaContexts(driver);
        DefaultDevice = Contexts.CurrentOrdinal() ?? 0;
        DriverVersion = driver.DriverVersion();
        var target = Target(DefaultDevice);
        Description = $"NVRTC {NvrtcVersion}, {target.Architecture}{(target.Output == Nvrtc.Output.Ptx ? " PTX" : "")} on {target.DeviceName}, " +
                      $"cache {cache.Folder ?? $"off ({CubinCache.FolderVariable}=off)"}";
    }

    /// <summary>Finds and loads NVRTC and the driver (<see cref="CudaLibraryLocator"/>), and initialises the driver.</summary>
    /// <exception cref="CudaException">A library could not be found or loaded, or the driver sees no GPU.</exception>
    public static NvrtcCompiler Create()
    {
        var driverLibrary = CudaLibraryLocator.LoadDriver();
        var driver = new CudaDriver(driverLibrary.Handle, driverLibrary.Path);
        driver.Init();
        if (driver.DeviceCount() == 0) throw new CudaException($"The CUDA driver ({driverLibrary.Path}) sees no GPU.");
        var nvrtcLibrary = CudaLibraryLocator.LoadNvrtc(CudaLibraryLocator.SearchInputs.Current());
        var nvrtc = new Nvrtc(nvrtcLibrary.Handle, nvrtcLibrary.Path);
        CudaLibraryLocator.PreloadBuiltins(nvrtcLibrary.Path, nvrtc.Version);
        return new NvrtcCompiler(driver, nvrtc, CubinCache.FromEnvironment());
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>NVRTC's version, e.g. <c>13.0</c>.</summary>
    public string NvrtcVersion => $"{nvrtc.Version.Major}.{nvrtc.Version.Minor}";

    /// <summary>The NVRTC library in use (a path, or a loader name the dynamic loader resolved).</summary>
    public string NvrtcLibrary => nvrtc.LibraryPath;

    /// <summary>The disk cache folder, or null when the disk cache is off.</summary>
    public string? CacheFolder => cache.Folder;

    /// <summary>The device modules are compiled for when created, and that launches with no CUDA tensor argument run on.</summary>
    public int DefaultDevice { get; }

    /// <summary>The newest CUDA version the driver supports, as the driver reports it (e.g. 13000 for 13.0).</summary>
    public int DriverVersion { get; }

    internal CudaDriver Driver => driver;

    /// <summary>Loads <paramref name="binary"/> into the current context, explaining the usual cause when the driver is older than NVRTC.</summary>
    internal nint LoadModule(byte[] binary, string name)
    {
        try
        {
            return driver.LoadModule(binary, name);
        }
        catch (CudaException e) when (DriverVersion < nvrtc.Version.Major * 1000 + nvrtc.Version.Minor * 10)
        {
            throw new CudaException($"{e.Message} The driver supports CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10} only, older than NVRTC {NvrtcVersion} " +
                $"({nvrtc.LibraryPath}): update the driver, or point {CudaLibraryLocator.NvrtcVariable} at an NVRTC no newer than the driver.", e);
        }
    }

    internal CudaContexts Contexts { get; }

    /// <inheritdoc/>
    public ICudaModule Compile(string name, string source, IReadOnlyList<KeyValuePair<string, string>> defines)
    {
        var module = new NvrtcModule(this, name, source, defines.ToArray());
        // Compile now, so that a source that does not compile fails here, where the caller can fall back. Loading
        // waits for the first launch, on the launch's device: loading here would create a context on a device
        // the process may never use.
        module.Binary(Target(DefaultDevice));
        return module;
    }

    /// <summary>What code a device needs: its architecture name for NVRTC, and whether as machine code or PTX.</summary>
    internal sealed record DeviceTarget(string Architecture, Nvrtc.Output Output, string DeviceName);

    internal DeviceTarget Target(int ordinal) => targets.GetOrAdd(ordinal, ChooseTarget);

    DeviceTarget ChooseTarget(int ordinal)
    {
        var device = driver.Device(ordinal);
        var (major, minor) = driver.ComputeCapability(device);
        var name = $"{driver.DeviceName(device)} (cuda:{ordinal}, compute capability {major}.{minor})";
        var wanted = major * 10 + minor;
        var supported = nvrtc.SupportedArchitectures;
        if (supported.Count == 0 || supported.Contains(wanted)) return new($"sm_{wanted}", Nvrtc.Output.Cubin, name);
        // A GPU newer than this NVRTC: PTX for the newest architecture it knows, which the driver translates.
        var older = supported.Where(a => a < wanted).DefaultIfEmpty(-1).Max();
        if (older > 0) return new($"compute_{older}", Nvrtc.Output.Ptx, name);
        throw new CudaException($"NVRTC {NvrtcVersion} ({nvrtc.LibraryPath}) compiles for sm_{supported.Min()} to sm_{supported.Max()}; {name} is sm_{wanted}, older than that. Use an NVRTC of an older CUDA release ({CudaLibraryLocator.NvrtcVariable}).");
    }

    /// <summary>The binary of one kernel variant for <paramref name="target"/>: from the disk cache, or compiled (and then cached).</summary>
    internal byte[] Binary(string name, string source, IReadOnlyList<KeyValuePair<string, string>> defines, DeviceTarget target)
    {
        var options = NvrtcOptions.For(target.Architecture, defines);
        var key = CubinCache.Key(source, options, $"NVRTC {NvrtcVersion}", target.Architecture);
        if (cache.TryRead(name, key) is { } cached) return cached;
        ReportCacheProblem();
        var binary = nvrtc.Compile(name, source, options, target.Output, out var log)
            ?? throw new CudaException(
                $"{name} does not compile with NVRTC {NvrtcVersion} ({nvrtc.LibraryPath}) for {target.Architecture}, " +
                $"constants {(defines.Count == 0 ? "none" : string.Join(", ", defines.Select(d => $"{d.Key}={d.Value}")))}; " +
                $"options: {string.Join(' ', options)}\n{log}");
        if (!cache.TryWrite(name, key, binary)) ReportCacheProblem();
        return binary;
    }

    void ReportCacheProblem()
    {
        if (cache.LastProblem is { } problem && reportedCacheProblems.TryAdd(problem, true))
            Console.Error.WriteLine($"AftDsl: CUDA kernel cache: {problem} (set {CubinCache.FolderVariable} to another folder, or to off).");
    }
}
