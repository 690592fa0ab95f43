using System.Runtime.InteropServices;

namespace AftDsl.Kernels.Cpu;

/// <summary>Uninitialised native scratch memory of the AFT-conv and AFT-full CPU kernels, freed on dispose (never a managed array the GC could move).</summary>
internal sealed unsafe class ConvFullScratch<T> : IDisposable where T : unmanaged
{
    /// <summary>Allocates <paramref name="length"/> elements, 64-byte aligned.</summary>
    public ConvFullScratch(long length) =>
        Pointer = (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length) * (nuint)sizeof(T), 64);

    /// <summary>The first element.</summary>
    public T* Pointer { get; private set; }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Pointer is null) return;
        NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}
