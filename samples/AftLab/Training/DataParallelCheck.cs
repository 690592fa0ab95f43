using AftDsl.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>One dtype's result: the largest differences seen over all steps, and whether they are within tolerance.</summary>
/// <param name="FromReference">Largest |parameter − the one-process reference's| over all steps and parameters, on any rank.</param>
/// <param name="AcrossRanks">Largest |parameter − rank 0's| over all steps, on any rank: 0 when all ranks hold identical parameters.</param>
public sealed record DataParallelCheckResult(ScalarType Dtype, int Steps, double FromReference, double AcrossRanks, double Tolerance)
{
    public bool Passed => FromReference <= Tolerance && AcrossRanks == 0;
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
        double fromReference = Difference(trained, reference), acrossRanks = AcrossRanks(parallel, trained);
        var random = new Random(seed);
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = Batch(random, world * batchPerRank, device);
            var share = (Rows: (long)parallel.Rank * batchPerRank, Count: (long)batchPerRank);

            optimizer.zero_grad();
            Loss(trained, inputs.narrow(0, share.Rows, share.Count), targets.narrow(0, share.Rows, share.Count)).backward();
            parallel.AverageGradients(trained.parameters());
            nn.utils.clip_grad_norm_(trained.parameters(), 0.5);
            optimizer.step();

            referenceOptimizer.zero_grad();
            Loss(reference, inputs, targets).backward();
            nn.utils.clip_grad_norm_(reference.parameters(), 0.5);
            referenceOptimizer.step();

            fromReference = Math.Max(fromReference, Difference(trained, reference));
            acrossRanks = Math.Max(acrossRanks, AcrossRanks(parallel, trained));
        }
        // The verdict is the same on every rank: the largest differences of any rank.
        var worst = parallel.AllReduceSum(Enumerable.Range(0, 2 * world).Select(i => i / 2 == parallel.Rank ? (i % 2 == 0 ? fromReference : acrossRanks) : 0.0).ToArray());
        return new DataParallelCheckResult(dtype, steps,
            Enumerable.Range(0, world).Max(r => worst[2 * r]), Enumerable.Range(0, world).Max(r => worst[2 * r + 1]), Tolerance(dtype));
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

    static double AcrossRanks(DataParallel parallel, nn.Module model)
    {
        using var scope = NewDisposeScope();
        var mine = Flat(model);
        var main = mine.clone();
        parallel.BroadcastTensors([main]);
        return (mine - main).abs().max().to(float64).item<double>();
    }
}
