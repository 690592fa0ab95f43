namespace AftDsl.Tests.Layers;

// Layers declared the way a user declares them; the generator fills in the rest at build time.

[AftFull(maxLength: 16, Dim = 8, Causal = true, FactorRank = 4)]
public partial class CausalMixer;

[AftFull(maxLength: 16, Dim = 8, FactorRank = 4)]
public partial class BidirectionalMixer;

[AftFull(maxLength: 1024)]
public partial class WidthAtConstruction;

[AftFull(maxLength: 6, Dim = 4, HiddenDim = 3, FactorRank = 2)]
public partial class TinyMixer;

[AftFull(maxLength: 6, Dim = 4, HiddenDim = 3, FactorRank = 2, Causal = true)]
public partial class TinyCausalMixer;

public static partial class Enclosing
{
    [AftFull(maxLength: 32, HiddenDim = 12, FactorRank = 8)]
    public partial class NestedMixer;
}

[AftLocal(maxLength: 40, window: 3, Dim = 8, FactorRank = 4, Causal = true)]
public partial class CausalLocalMixer;

[AftLocal(maxLength: 8, window: 2, Dim = 4, HiddenDim = 3, FactorRank = 2)]
public partial class TinyLocalMixer;

[AftSimple(Dim = 8, Causal = true)]
public partial class CausalSimpleMixer;

[AftSimple(HiddenDim = 3)]
public partial class SimpleAtConstruction;

[AftConv(heads: 2, window: 3)]
public partial class GridMixer;

[AftConv(heads: 2, window: 3, Dim = 4, GridHeight = 3, GridWidth = 4)]
public partial class FixedGridMixer;

[AftConv(heads: 2, window: 3, Dim = 4, Layout = AftConvLayout.Sequence, Causal = true)]
public partial class CausalConvMixer;

[AftConv(heads: 2, window: 3, Reparameterise = false)]
public partial class RawKernelGridMixer;

[AftConv(heads: 2, window: 3, Dim = 4, Connectivity = AftConvConnectivity.Window)]
public partial class WindowGridMixer;

[AftConv(heads: 2, window: 3, Dim = 4, Layout = AftConvLayout.Sequence, Causal = true, Reparameterise = false, Connectivity = AftConvConnectivity.Window)]
public partial class CausalWindowRawConvMixer;
