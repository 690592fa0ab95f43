using BenchmarkDotNet.Attributes;
using TorchSharp;

namespace AftLab.Benchmarks;

/// <summary>
/// The BenchmarkDotNet benchmark: one parameter, the case. Inputs are made once per case (global setup)
/// and every iteration is one run of the operation. Run in process (the app may run on a machine with
/// no .NET SDK, and TorchSharp's native state stays loaded between cases).
/// </summary>
public class MixerBenchmarks
{
    /// <summary>Set by the bench command before BenchmarkDotNet starts.</summary>
    public static IReadOnlyList<BenchCase> Cases { get; set; } = [];

    /// <summary>Set by the bench command before BenchmarkDotNet starts.</summary>
    public static torch.Device Device { get; set; } = torch.CPU;

    public static IEnumerable<BenchCase> CaseSource() => Cases;

    BenchWorkload? workload;

    [ParamsSource(nameof(CaseSource))]
    public BenchCase Case { get; set; } = null!;

    [GlobalSetup]
    public void Setup() => workload = new BenchWorkload(Case, Device);

    [Benchmark]
    public void Run() => workload!.Run();

    [GlobalCleanup]
    public void Cleanup()
    {
        workload?.Dispose();
        workload = null;
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
