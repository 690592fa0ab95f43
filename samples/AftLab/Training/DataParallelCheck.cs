using AftDsl.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>One dtype's result: the largest differences seen over all steps, and whether they are within tolerance.</summary>
/// <param name="FromReference">Largest |parameter − the one-process reference's| over all steps and parameters, on any rank.</param>
/// <param name="GradientFromReference">Largest |averaged gradient − the reference's| (before clipping) over all steps, on any rank:
/// AdamW and clipping hide a gradient scaled by a constant (a sum instead of a mean), this does not.</param>
/// <param name="AcrossRanks">Largest |parameter − rank 0's| over all steps, on any rank: 0 when all ranks hold identical parameters.</param>
public sealed record DataParallelCheckResult(ScalarType Dtype, int Steps, double FromReference, double GradientFromReference, double AcrossRanks, double Tolerance)
{
    public bool Passed => FromReference <= Tolerance && GradientFromReference <= Tolerance && AcrossRanks == 0;
}

/// <summary>
/// The equivalence data-parallel training promises, checked step by step: a tiny model trained through
/// <see cref="DataParallel"/>, each of N ranks on its share of every batch, against the same model trained in the same
/// process without it on the whole batch (N × the per-rank batch), with AdamW and gradient clipping as aftlab trains.
/// Ranks other than 0 start from other weights, so that the broadcast of rank 0's is checked too. After every step the
/// largest difference from the reference is measured, and every rank's parameters are compared with rank 0's.
/// </summary>
public static class DataParallelCheck
{
    const int Vocabulary = 32, Width = 16, Length = 8;

    /// <summary>Test hook (AFTLAB_CHECK_FAULT=no-average): leaves the gradient averaging out, which the check must report as a failure.</summary>
    public const string FaultVariable = "AFTLAB_CHECK_FAULT";

    /// <summary>Float32 agrees to rounding (different summation orders); float64 to 1e-10.</summary>
    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-10 : 1e-5;

    public static DataParallelCheckResult Run(DataParallel parallel, ScalarType dtype, int steps, int batchPerRank, int seed)
    {
        var device = parallel.Device;
        var world = parallel.WorldSize;
        using var trained = Model(seed, dtype, device);
        using var reference = Model(seed, dtype, device);
        if (parallel.Rank != 0)
            using (no_grad())
                foreach (var p in trained.parameters()) p.add_(0.5 * parallel.Rank);   // the broadcast must undo this
        parallel.BroadcastParameters(trained);
        using var optimizer = optim.AdamW(trained.parameters(), 1e-2, weight_decay: 0.01);
        using var referenceOptimizer = optim.AdamW(reference.parameters(), 1e-2, weight_decay: 0.01);
        double fromReference = Difference(trained, reference), acrossRanks = AcrossRanks(parallel, trained), gradientFromReference = 0;
        var random = new Random(seed);
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = Batch(random, world * batchPerRank, device);
            var share = (Rows: (long)parallel.Rank * batchPerRank, Count: (long)batchPerRank);

            optimizer.zero_grad();
            Loss(trained, inputs.narrow(0, share.Rows, share.Count), targets.narrow(0, share.Rows, share.Count)).backward();
            if (Environment.GetEnvironmentVariable(FaultVariable) != "no-average")
                parallel.AverageGradients(trained.parameters());
            referenceOptimizer.zero_grad();
            Loss(reference, inputs, targets).backward();
            gradientFromReference = Math.Max(gradientFromReference, GradientDifference(trained, reference));

            nn.utils.clip_grad_norm_(trained.parameters(), 0.5);
            optimizer.step();
            nn.utils.clip_grad_norm_(reference.parameters(), 0.5);
            referenceOptimizer.step();

            fromReference = Math.Max(fromReference, Difference(trained, reference));
            acrossRanks = Math.Max(acrossRanks, AcrossRanks(parallel, trained));
        }
        // The verdict is the same on every rank: the largest differences of any rank.
        double[] mine = [fromReference, gradientFromReference, acrossRanks];
        var all = parallel.AllReduceSum(Enumerable.Range(0, mine.Length * world).Select(i => i / mine.Length == parallel.Rank ? mine[i % mine.Length] : 0.0).ToArray());
        double Worst(int which) => Enumerable.Range(0, world).Max(r => all[r * mine.Length + which]);
        return new DataParallelCheckResult(dtype, steps, Worst(0), Worst(1), Worst(2), Tolerance(dtype));
    }

    static Sequential Model(int seed, ScalarType dtype, Device device)
    {
        manual_seed(seed);
        var model = nn.Sequential(
            ("embed", nn.Embedding(Vocabulary, Width)),
            ("hidden", nn.Linear(Width, Width)),
            ("tanh", nn.Tanh()),
            ("norm", nn.LayerNorm(Width)),
            ("head", nn.Linear(Width, Vocabulary)));
        model.to(dtype).to(device);
        return model;
    }

    static (Tensor Inputs, Tensor Targets) Batch(Random random, int rows, Device device)
    {
        long[] Draw() => Enumerable.Range(0, rows * Length).Select(_ => (long)random.Next(Vocabulary)).ToArray();
        return (tensor(Draw(), [rows, Length]).to(device), tensor(Draw(), [rows, Length]).to(device));
    }

    static Tensor Loss(Sequential model, Tensor inputs, Tensor targets) =>
        nn.functional.cross_entropy(model.forward(inputs).reshape(-1, Vocabulary), targets.reshape(-1));

    static Tensor Flat(nn.Module model) => cat(model.parameters().Select(p => p.detach().reshape(-1)).ToList(), 0);

    static double Difference(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        return (Flat(a) - Flat(b)).abs().max().to(float64).item<double>();
    }

    static double GradientDifference(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        Tensor Gradients(nn.Module m) => cat(m.parameters().Select(p => (p.grad ?? zeros_like(p)).reshape(-1)).ToList(), 0);
        return (Gradients(a) - Gradients(b)).abs().max().to(float64).item<double>();
    }

    static double AcrossRanks(DataParallel parallel, nn.Module model)
    {
        using var scope = NewDisposeScope();
        var mine = Flat(model);
        var main = mine.clone();
        parallel.BroadcastTensors([main]);
        return (mine - main).abs().max().to(float64).item<double>();
    }
}
