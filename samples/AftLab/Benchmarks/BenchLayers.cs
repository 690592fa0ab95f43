using AftDsl;

namespace AftLab.Benchmarks;

// Whole mixing layers, projections included, for the layer-level comparison with attention: what a user
// would put in a block, at the benchmark's width, causal.

[AftSimple(Dim = 512, Causal = true)] public partial class BenchSimpleLayer;
[AftLocal(maxLength: 16384, window: 128, Dim = 512, Causal = true)] public partial class BenchLocalLayer;
[MultiHeadAttention(heads: 8, Dim = 512, Causal = true)] public partial class BenchAttentionLayer;
