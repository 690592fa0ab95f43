using System.Runtime.InteropServices;
using System.Text;

namespace AftDsl.Distributed.Native;

/// <summary>
/// The few MPI calls data-parallel training needs, bound directly to Open MPI's <c>libmpi.so.40</c> (MPI.NET 1.4.0,
/// the NuGet package, binds Microsoft MPI's msmpi.dll and its integer handles, so it does not run on Linux).
/// Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>, …) are the addresses of exported
/// objects (<c>ompi_mpi_comm_world</c>, …), taken with <see cref="NativeLibrary.GetExport"/>.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>The environment variable naming libmpi's file, when it is not on the loader's path.</summary>
    public const string LibraryVariable = "AFTDSL_MPI";

    /// <summary><c>MPI_SUCCESS</c>.</summary>
    public const int Success = 0;

    /// <summary><c>MPI_THREAD_MULTIPLE</c> in Open MPI: the watchdog may abort from its own thread.</summary>
    public const int ThreadMultiple = 3;

    /// <summary>Open MPI's <c>MPI_IN_PLACE</c>, <c>(void*)1</c>.</summary>
    public static readonly nint InPlace = 1;

    /// <summary>The file it was loaded from (or the loader name).</summary>
    public string Path { get; }

    /// <summary><c>MPI_COMM_WORLD</c>.</summary>
    public nint CommWorld { get; }

    /// <summary><c>MPI_SUM</c>.</summary>
    public nint Sum { get; }

    readonly nint mpiFloat, mpiDouble, mpiByte, mpiInt, mpiLongLong;
    readonly delegate* unmanaged<int*, int> mpiInitialized;
    readonly delegate* unmanaged<int*, int> mpiQueryThread;
    readonly delegate* unmanaged<int*, int> mpiFinalized;
    readonly delegate* unmanaged<int*, byte***, int, int*, int> mpiInitThread;
    readonly delegate* unmanaged<int> mpiFinalize;
    readonly delegate* unmanaged<nint, int*, int> mpiCommRank;
    readonly delegate* unmanaged<nint, int*, int> mpiCommSize;
    readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> mpiAllreduce;
    readonly delegate* unmanaged<nint, int, nint, int, nint, int> mpiBcast;
    readonly delegate* unmanaged<nint, int> mpiBarrier;
    readonly delegate* unmanaged<nint, int, int> mpiAbort;
    readonly delegate* unmanaged<byte*, int*, int> mpiGetLibraryVersion;
    readonly delegate* unmanaged<int, byte*, int*, int> mpiErrorString;

    MpiLibrary(nint library, string path)
    {
        Path = path;
        nint Bind(string symbol) => NativeLibrary.TryGetExport(library, symbol, out var address) ? address
            : throw new DistributedException($"{path} does not export {symbol}: it is not Open MPI's libmpi.so.40 (MPICH and others name their handles differently); " +
                                             $"install Open MPI (apt-get install openmpi-bin libopenmpi-dev) or point {LibraryVariable} at its libmpi.so.40.");
        CommWorld = Bind("ompi_mpi_comm_world");
        Sum = Bind("ompi_mpi_op_sum");
        mpiFloat = Bind("ompi_mpi_float");
        mpiDouble = Bind("ompi_mpi_double");
        mpiByte = Bind("ompi_mpi_byte");
        mpiInt = Bind("ompi_mpi_int");
        mpiLongLong = Bind("ompi_mpi_long_long_int");
        mpiInitialized = (delegate* unmanaged<int*, int>)Bind("MPI_Initialized");
        mpiQueryThread = (delegate* unmanaged<int*, int>)Bind("MPI_Query_thread");
        mpiFinalized = (delegate* unmanaged<int*, int>)Bind("MPI_Finalized");
        mpiInitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Bind("MPI_Init_thread");
        mpiFinalize = (delegate* unmanaged<int>)Bind("MPI_Finalize");
        mpiCommRank = (delegate* unmanaged<nint, int*, int>)Bind("MPI_Comm_rank");
        mpiCommSize = (delegate* unmanaged<nint, int*, int>)Bind("MPI_Comm_size");
        mpiAllreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Bind("MPI_Allreduce");
        mpiBcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Bind("MPI_Bcast");
        mpiBarrier = (delegate* unmanaged<nint, int>)Bind("MPI_Barrier");
        mpiAbort = (delegate* unmanaged<nint, int, int>)Bind("MPI_Abort");
        mpiGetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Bind("MPI_Get_library_version");
        mpiErrorString = (delegate* unmanaged<int, byte*, int*, int>)Bind("MPI_Error_string");
    }

    /// <summary>Where libmpi is looked for, in order: <c>AFTDSL_MPI</c> when set (and nothing else), else the loader's search.</summary>
    public static IReadOnlyList<string> Candidates(Func<string, string?> environment) =>
        environment(LibraryVariable) is { Length: > 0 } set ? [set] : ["libmpi.so.40", "libmpi.so"];

    /// <summary>Loads libmpi from the first candidate that loads.</summary>
    /// <exception cref="DistributedException">None loads: the message names each candidate, why it failed, and how to install Open MPI.</exception>
    public static MpiLibrary Load(Func<string, string?> environment)
    {
        var failures = new List<string>();
        foreach (var candidate in Candidates(environment))
        {
            if (GlobalLibrary.TryLoad(candidate, out var handle, out var error))
                return new MpiLibrary(handle, candidate);
            failures.Add($"{candidate} ({error})");
        }
        var fix = environment(LibraryVariable) is { Length: > 0 } set
            ? $"{LibraryVariable}='{set}' is set, so nothing else was tried: correct it or unset it"
            : $"install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev) or set {LibraryVariable} to libmpi.so.40's path";
        throw new DistributedException($"Could not load MPI (Open MPI's libmpi.so.40) for the CPU backend: tried {string.Join("; ", failures)}. To fix: {fix}.");
    }

    /// <summary>Initialises MPI once per process (a no-op when already initialised), asking for <c>MPI_THREAD_MULTIPLE</c>.</summary>
    /// <returns>The thread level provided.</returns>
    public int Initialize()
    {
        int flag, provided;
        Check(mpiInitialized(&flag), "MPI_Initialized");
        if (flag != 0)
            Check(mpiQueryThread(&provided), "MPI_Query_thread");             // initialised by someone else, at their level
        else
            Check(mpiInitThread(null, null, ThreadMultiple, &provided), "MPI_Init_thread");
        return provided;
    }

    /// <summary>True once <c>MPI_Finalize</c> has run.</summary>
    public bool IsFinalized
    {
        get
        {
            int flag;
            Check(mpiFinalized(&flag), "MPI_Finalized");
            return flag != 0;
        }
    }

    /// <summary><c>MPI_Finalize</c>.</summary>
    public void FinalizeMpi() => Check(mpiFinalize(), "MPI_Finalize");

    /// <summary>This process's rank in <c>MPI_COMM_WORLD</c>.</summary>
    public int Rank()
    {
        int rank;
        Check(mpiCommRank(CommWorld, &rank), "MPI_Comm_rank");
        return rank;
    }

    /// <summary>The size of <c>MPI_COMM_WORLD</c>.</summary>
    public int Size()
    {
        int size;
        Check(mpiCommSize(CommWorld, &size), "MPI_Comm_size");
        return size;
    }

    /// <summary>The MPI datatype of one element of <paramref name="dtype"/>.</summary>
    public nint Datatype(TorchSharp.torch.ScalarType dtype) => dtype switch
    {
        TorchSharp.torch.ScalarType.Float32 => mpiFloat,
        TorchSharp.torch.ScalarType.Float64 => mpiDouble,
        TorchSharp.torch.ScalarType.Int32 => mpiInt,
        TorchSharp.torch.ScalarType.Int64 => mpiLongLong,                 // buffers such as BatchNorm's step count
        TorchSharp.torch.ScalarType.Byte or TorchSharp.torch.ScalarType.Bool => mpiByte,
        _ => throw new DistributedException($"The MPI backend handles float32, float64 and integer tensors, not {dtype}: train in float32 on the CPU."),
    };

    /// <summary>In-place sum of <paramref name="count"/> elements at <paramref name="buffer"/> over all ranks.</summary>
    public void AllReduceSumInPlace(nint buffer, int count, nint datatype) =>
        Check(mpiAllreduce(InPlace, buffer, count, datatype, Sum, CommWorld), "MPI_Allreduce");

    /// <summary>Rank <paramref name="root"/>'s <paramref name="count"/> elements at <paramref name="buffer"/>, to every rank.</summary>
    public void Broadcast(nint buffer, int count, nint datatype, int root) =>
        Check(mpiBcast(buffer, count, datatype, root, CommWorld), "MPI_Bcast");

    /// <summary>Broadcasts raw bytes (NCCL's unique id).</summary>
    public void BroadcastBytes(Span<byte> bytes, int root)
    {
        fixed (byte* pointer = bytes) Broadcast((nint)pointer, bytes.Length, mpiByte, root);
    }

    /// <summary><c>MPI_Barrier</c> on <c>MPI_COMM_WORLD</c>.</summary>
    public void Barrier() => Check(mpiBarrier(CommWorld), "MPI_Barrier");

    /// <summary><c>MPI_Abort</c>: ends every rank of the job with <paramref name="code"/>; does not return when it works.</summary>
    public void Abort(int code) => mpiAbort(CommWorld, code);

    /// <summary>The library's own version line, e.g. <c>Open MPI v4.1.4, …</c> (first line only).</summary>
    public string Version()
    {
        var buffer = stackalloc byte[8192];
        int length;
        if (mpiGetLibraryVersion(buffer, &length) != Success) return "unknown version";
        var text = Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 8191)).Trim('\0', ' ', '\n');
        var line = text.Split('\n')[0];
        var comma = line.IndexOf(',');
        return comma > 0 ? line[..comma] : line;
    }

    void Check(int result, string call)
    {
        if (result == Success) return;
        var buffer = stackalloc byte[1024];
        int length = 0;
        var reason = mpiErrorString(result, buffer, &length) == Success ? Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 1023)) : $"error {result}";
        throw new DistributedException($"{call} failed: {reason}.");
    }
}
