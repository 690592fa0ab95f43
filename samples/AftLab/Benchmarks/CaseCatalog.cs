using TorchSharp;

namespace AftLab.Benchmarks;

/// <summary>What to measure, as chosen on the command line.</summary>
public sealed record BenchPlan(
    IReadOnlyList<long> Lengths,
    long Tokens,
    IReadOnlyList<long> Windows,
    ISet<Variant> Variants,
    torch.ScalarType Dtype,
    bool Cuda,
    double NaiveBudgetBytes)
{
    public const long Width = 512;
    public const long ConvHeads = 32;
    public const long ConvWindow = 7;

    /// <summary>B for a sequence of <paramref name="length"/>: B·T near <see cref="Tokens"/>, at least 1.</summary>
    public long BatchFor(long length) => Math.Max(1, Tokens / length);
}

/// <summary>A case that will not be run, and why.</summary>
public sealed record SkippedCase(BenchCase Case, string Reason);

/// <summary>Builds the grid of cases: every variant and peer, T, causal or not, forward or forward+backward.</summary>
public static class CaseCatalog
{
    static readonly Implementation[] Compared = [Implementation.Fused, Implementation.Operators, Implementation.Unfused, Implementation.Naive];

    public static (List<BenchCase> Run, List<SkippedCase> Skipped) Build(BenchPlan plan)
    {
        var run = new List<BenchCase>();
        var skipped = new List<SkippedCase>();
        void Add(BenchCase c, string? skip = null)
        {
            if (skip is null) run.Add(c);
            else skipped.Add(new SkippedCase(c, skip));
        }

        foreach (var length in plan.Lengths)
        {
            var batch = plan.BatchFor(length);
            foreach (var causal in new[] { false, true })
            foreach (var backward in new[] { false, true })
            {
                BenchCase Case(Variant v, Implementation i, long window = 0) =>
                    new(v, i, length, batch, causal, backward, plan.Dtype, BenchPlan.Width, window);
                if (plan.Variants.Contains(Variant.Full))
                    foreach (var i in Compared)
                        Add(Case(Variant.Full, i), i == Implementation.Naive ? NaiveTooBig(plan, batch, length, backward) : null);
                if (plan.Variants.Contains(Variant.Local))
                    foreach (var window in plan.Windows.Where(w => w < length))
                        foreach (var i in Compared)
                            Add(Case(Variant.Local, i, window), i == Implementation.Naive ? NaiveTooBig(plan, batch, length, backward) : null);
                if (plan.Variants.Contains(Variant.Simple))
                    foreach (var i in Compared)
                        Add(Case(Variant.Simple, i), i == Implementation.Naive ? NaiveTooBig(plan, batch, length, backward) : null);
                if (plan.Variants.Contains(Variant.Conv))
                    AddConv(plan, length, batch, causal, backward, Add);
                if (plan.Variants.Contains(Variant.Attention))
                    Add(Case(Variant.Attention, Implementation.Sdpa));
                if (plan.Variants.Contains(Variant.SimpleLayer) && causal)
                {
                    Add(Case(Variant.SimpleLayer, Implementation.Fused));
                    Add(Case(Variant.LocalLayer, Implementation.Fused), length > BenchLocalLayer.MaxLength ? $"the layer's maxLength is {BenchLocalLayer.MaxLength}" : null);
                    Add(Case(Variant.AttentionLayer, Implementation.Sdpa));
                }
            }
            if (plan.Variants.Contains(Variant.Full))
                Add(new BenchCase(Variant.Matmul, Implementation.Roof, length, batch, false, false, plan.Dtype));
            if (plan.Variants.Contains(Variant.Simple))
                Add(new BenchCase(Variant.Copy, Implementation.Roof, length, batch, false, false, plan.Dtype));
        }
        return (run, skipped);
    }

    // Non-causal AFT-conv runs on square grids of T positions (up to 64×64 on CPU, 128×128 on CUDA); causal AFT-conv on sequences.
    static void AddConv(BenchPlan plan, long length, long batch, bool causal, bool backward, Action<BenchCase, string?> add)
    {
        var side = (long)Math.Round(Math.Sqrt(length));
        var grid = !causal;
        if (grid && (side * side != length || side > (plan.Cuda ? 128 : 64)))
            return;
        foreach (var i in Compared)
        {
            var c = new BenchCase(Variant.Conv, i, length, batch, causal, backward, plan.Dtype, BenchPlan.Width,
                BenchPlan.ConvWindow, BenchPlan.ConvHeads, grid ? side : 0);
            // The naive conv reference builds its T×T bias matrix entry by entry: for small inputs only.
            var skip = i != Implementation.Naive ? null
                : length > 256 ? "the naive reference builds a T×T relative-bias matrix entry by entry; run up to T = 256"
                : NaiveTooBig(plan, batch, length, backward);
            add(c, skip);
        }
    }

    // The naive form holds B×T×T×d tensors: a few of them forward, more with autograd's saved intermediates.
    static string? NaiveTooBig(BenchPlan plan, long batch, long length, bool backward)
    {
        var bytes = (double)batch * length * length * BenchPlan.Width * torch.empty(0, dtype: plan.Dtype).element_size() * (backward ? 6 : 3);
        return bytes <= plan.NaiveBudgetBytes ? null
            : $"needs about {bytes / (1L << 30):F0} GiB for its B×T×T×d tensors (budget {plan.NaiveBudgetBytes / (1L << 30):F0} GiB)";
    }
}
