using AftDsl;

namespace AftLab.Models;

/// <summary>The token mixer of the byte-level language model: causal AFT-full over 256 bytes of context.</summary>
[AftFull(maxLength: 256, Dim = 128, Causal = true, FactorRank = 64)]
public partial class LmMixer;
