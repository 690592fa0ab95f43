using System.Runtime.InteropServices;
using AftDsl.Cuda;
using AftDsl.Cuda.Native;

namespace AftDsl.Distributed.Native;

/// <summary>NCCL's 128-byte unique id (<c>ncclUniqueId</c>), passed by value to <c>ncclCommInitRank</c>.</summary>
[StructLayout(LayoutKind.Sequential, Size = Length)]
internal unsafe struct NcclUniqueId
{
    /// <summary><c>NCCL_UNIQUE_ID_BYTES</c>.</summary>
    public const int Length = 128;

    fixed byte bytes[Length];

    /// <summary>The id as bytes, to send to the other ranks.</summary>
    public readonly byte[] ToArray()
    {
        var copy = new byte[Length];
        fixed (byte* source = bytes) new ReadOnlySpan<byte>(source, Length).CopyTo(copy);
        return copy;
    }

    /// <summary>The id received from rank 0.</summary>
    public static NcclUniqueId From(ReadOnlySpan<byte> received)
    {
        if (received.Length != Length) throw new ArgumentException($"An NCCL unique id is {Length} bytes, got {received.Length}.", nameof(received));
        var id = new NcclUniqueId();
        received.CopyTo(new Span<byte>(id.bytes, Length));
        return id;
    }
}

/// <summary>
/// The NCCL calls data-parallel training needs, bound to <c>libnccl.so.2</c> through function pointers. It is looked
/// for, in order: <c>AFTDSL_NCCL</c> (a file or folder; when set, nothing else), the copy already loaded into the process
/// (PyTorch's libtorch_cuda links it, so binding to another NCCL would put two in one process), beside the libtorch this process loaded
/// (its folder, and <c>site-packages/nvidia/nccl/lib</c> next to a PyTorch install's <c>torch/lib</c>, where PyTorch's
/// CUDA wheels put it), then the loader's search by name.
/// </summary>
internal sealed unsafe class NcclLibrary
{
    /// <summary>The environment variable naming libnccl's file or folder.</summary>
    public const string LibraryVariable = "AFTDSL_NCCL";

    /// <summary><c>ncclSuccess</c>.</summary>
    public const int Success = 0;

    /// <summary><c>ncclSum</c>.</summary>
    public const int Sum = 0;

    /// <summary>The file it was loaded from.</summary>
    public string Path { get; }

    readonly delegate* unmanaged<int*, int> ncclGetVersion;
    readonly delegate* unmanaged<NcclUniqueId*, int> ncclGetUniqueId;
    readonly delegate* unmanaged<nint*, int, NcclUniqueId, int, int> ncclCommInitRank;
    readonly delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> ncclAllReduce;
    readonly delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> ncclBroadcast;
    readonly delegate* unmanaged<nint, int> ncclCommDestroy;
    readonly delegate* unmanaged<nint, int> ncclCommAbort;
    readonly delegate* unmanaged<int, byte*> ncclGetErrorString;

    NcclLibrary(nint library, string path)
    {
        Path = path;
        nint Bind(string symbol) => NativeLibrary.TryGetExport(library, symbol, out var address) ? address
            : throw new DistributedException($"{path} does not export {symbol}: it is not a usable libnccl.so.2 (NCCL 2.7 or newer is needed).");
        ncclGetVersion = (delegate* unmanaged<int*, int>)Bind("ncclGetVersion");
        ncclGetUniqueId = (delegate* unmanaged<NcclUniqueId*, int>)Bind("ncclGetUniqueId");
        ncclCommInitRank = (delegate* unmanaged<nint*, int, NcclUniqueId, int, int>)Bind("ncclCommInitRank");
        ncclAllReduce = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Bind("ncclAllReduce");
        ncclBroadcast = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Bind("ncclBroadcast");
        ncclCommDestroy = (delegate* unmanaged<nint, int>)Bind("ncclCommDestroy");
        ncclCommAbort = (delegate* unmanaged<nint, int>)Bind("ncclCommAbort");
        ncclGetErrorString = (delegate* unmanaged<int, byte*>)Bind("ncclGetErrorString");
    }

    /// <summary>Every place libnccl is looked for, in the order they are tried.</summary>
    public static IReadOnlyList<string> Candidates(CudaLibraryLocator.SearchInputs inputs)
    {
        if (inputs.Environment(LibraryVariable) is { Length: > 0 } set)
            return [Directory.Exists(set) ? System.IO.Path.Combine(set, "libnccl.so.2") : set];
        var candidates = inputs.LoadedLibraries.Where(l => System.IO.Path.GetFileName(l).StartsWith("libnccl.so", StringComparison.Ordinal)).ToList();
        foreach (var folder in CudaLibraryLocator.TorchLibraryFolders(inputs))
        {
            candidates.Add(System.IO.Path.Combine(folder, "libnccl.so.2"));
            candidates.Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, "..", "..", "nvidia", "nccl", "lib", "libnccl.so.2")));
        }
        candidates.Add("libnccl.so.2");
        return candidates.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Loads libnccl from the first candidate that loads.</summary>
    /// <exception cref="DistributedException">None loads: the message names each candidate, why it failed, and the fix.</exception>
    public static NcclLibrary Load(CudaLibraryLocator.SearchInputs inputs)
    {
        var failures = new List<string>();
        foreach (var candidate in Candidates(inputs))
        {
            if (candidate.Contains('/') && !File.Exists(candidate))
            {
                failures.Add($"{candidate} (no such file)");
                continue;
            }
            if (NativeLoader.TryLoad(candidate, out var handle, out var error))
                return new NcclLibrary(handle, candidate);
            failures.Add($"{candidate} ({error})");
        }
        var fix = inputs.Environment(LibraryVariable) is { Length: > 0 } set
            ? $"{LibraryVariable}='{set}' is set, so nothing else was tried: correct it or unset it"
            : $"install PyTorch with CUDA (its nvidia-nccl wheel puts libnccl.so.2 in site-packages/nvidia/nccl/lib) and bind to its libtorch, or set {LibraryVariable} to libnccl.so.2's path or folder";
        throw new DistributedException($"Could not load NCCL (libnccl.so.2) for the CUDA backend: tried {string.Join("; ", failures)}. To fix: {fix}.");
    }

    /// <summary>NCCL's version, e.g. <c>2.28.9</c>.</summary>
    public string Version()
    {
        int code;
        Check(ncclGetVersion(&code), "ncclGetVersion");
        // Since 2.9 the code is major·10000 + minor·100 + patch; before, major·1000 + minor·100 + patch.
        return code >= 10000 ? $"{code / 10000}.{code / 100 % 100}.{code % 100}" : $"{code / 1000}.{code / 100 % 10}.{code % 100}";
    }

    /// <summary>A new unique id: rank 0 makes it and sends it to the others.</summary>
    public NcclUniqueId NewUniqueId()
    {
        NcclUniqueId id;
        Check(ncclGetUniqueId(&id), "ncclGetUniqueId");
        return id;
    }

    /// <summary>Joins the communicator of <paramref name="id"/> as <paramref name="rank"/> of <paramref name="size"/>, on the current CUDA device.</summary>
    public nint InitRank(int size, NcclUniqueId id, int rank)
    {
        nint comm;
        Check(ncclCommInitRank(&comm, size, id, rank), "ncclCommInitRank");
        return comm;
    }

    /// <summary>In-place sum of <paramref name="count"/> elements of <paramref name="datatype"/> on <paramref name="stream"/>.</summary>
    public void AllReduceSumInPlace(nint buffer, long count, int datatype, nint comm, nint stream) =>
        Check(ncclAllReduce(buffer, buffer, (nuint)count, datatype, Sum, comm, stream), "ncclAllReduce");

    /// <summary>In-place broadcast from <paramref name="root"/> on <paramref name="stream"/>.</summary>
    public void Broadcast(nint buffer, long count, int datatype, int root, nint comm, nint stream) =>
        Check(ncclBroadcast(buffer, buffer, (nuint)count, datatype, root, comm, stream), "ncclBroadcast");

    /// <summary>Frees a communicator after its work is done.</summary>
    public void Destroy(nint comm) => Check(ncclCommDestroy(comm), "ncclCommDestroy");

    /// <summary>Frees a communicator at once, abandoning work in flight (after a failure or a timeout).</summary>
    public void Abort(nint comm) => ncclCommAbort(comm);

    /// <summary>The NCCL datatype (<c>ncclDataType_t</c>) of <paramref name="dtype"/>.</summary>
    public static int Datatype(TorchSharp.torch.ScalarType dtype) => dtype switch
    {
        TorchSharp.torch.ScalarType.Byte or TorchSharp.torch.ScalarType.Bool => 1,
        TorchSharp.torch.ScalarType.Int32 => 2,
        TorchSharp.torch.ScalarType.Int64 => 4,
        TorchSharp.torch.ScalarType.Float16 => 6,
        TorchSharp.torch.ScalarType.Float32 => 7,
        TorchSharp.torch.ScalarType.Float64 => 8,
        TorchSharp.torch.ScalarType.BFloat16 => 9,
        _ => throw new DistributedException($"NCCL does not reduce {dtype} tensors."),
    };

    void Check(int result, string call)
    {
        if (result == Success) return;
        var text = Marshal.PtrToStringUTF8((nint)ncclGetErrorString(result)) ?? $"error {result}";
        throw new DistributedException($"{call} failed: {text} (NCCL result {result}; NCCL_DEBUG=WARN says more).");
    }
}
