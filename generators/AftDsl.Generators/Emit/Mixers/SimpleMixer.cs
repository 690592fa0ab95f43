using AftDsl.Generators.Model;
using static AftDsl.Generators.Emit.SourceWriter;

namespace AftDsl.Generators.Emit.Mixers;

/// <summary>AFT-simple (Eq. 5): no position parameters.</summary>
internal sealed class SimpleMixer : MixerDescriptor
{
    public static readonly SimpleMixer Instance = new();

    public override string Summary(MixerSpec spec, string mode) => $"AFT-simple token mixer (Zhai et al., 2021, Eq. 5), O(T·d), {mode}";

    public override (int Tensors, string Constants)? Kernel => (3, "causal: Causal");
}
