using AftDsl.Kernels;
using Xunit;

namespace AftDsl.Tests.Kernels.Cpu;

/// <summary>The kernel paths the AFT-conv and AFT-full tests run on (a public mirror of the library's internal KernelPath).</summary>
public enum ConvFullPath { Torch, Cpu }

/// <summary>Forcing one path for the tests of AFT-conv and AFT-full.</summary>
public static class ConvFullPaths
{
    /// <summary>Every forward in this flow takes <paramref name="path"/> until disposed.</summary>
    public static IDisposable Force(ConvFullPath path) =>
        KernelDispatch.Force(path == ConvFullPath.Cpu ? KernelPath.Cpu : KernelPath.Torch);

    /// <summary>Both paths, for <c>[MemberData]</c>.</summary>
    public static TheoryData<ConvFullPath> Both => new() { ConvFullPath.Torch, ConvFullPath.Cpu };
}
