using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Tests.Kernels;

/// <summary>
/// AFT-conv with window connectivity, written from its definition and independently of the library: for each
/// target t and head i, Y_t = σ(Q_t) ⊙ Σ_{t' ∈ window(t)} e^{K_t' + w_tap} V_t' / Σ_{t' ∈ window(t)} e^{K_t' + w_tap},
/// the window being the kernel's taps around t ("same" padding, ⌊(s − 1)/2⌋ before; causal: the s − 1 positions
/// before t), clipped to the input. Float64, differentiable by autograd. Channels-last: q, v <c>[B, *grid, D]</c>,
/// k <c>[B, *grid, heads]</c>, w <c>[heads, s]</c> or <c>[heads, s, s]</c>.
/// </summary>
public static class WindowConvReference
{
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor w, bool causal)
    {
        var (batch, heads, width) = (k.shape[0], k.shape[^1], v.shape[^1]);
        var size = w.shape[1];
        var grid = k.shape.Skip(1).Take((int)w.dim() - 1).ToArray();
        var (rows, columns) = grid.Length == 1 ? (1L, grid[0]) : (grid[0], grid[1]);
        var positions = rows * columns;
        var before = causal ? size - 1 : (size - 1) / 2;
        var rowBefore = grid.Length == 1 ? 0 : (size - 1) / 2;

        // Explicit pairs: which sources each target's window holds, and the tap that joins them.
        var inside = new bool[positions * positions];
        var taps = new long[positions * positions];
        for (long target = 0; target < positions; target++)
            for (long source = 0; source < positions; source++)
            {
                var tapRow = source / columns - target / columns + rowBefore;
                var tapColumn = source % columns - target % columns + before;
                var rowTaps = grid.Length == 1 ? 1 : size;
                if (tapRow < 0 || tapRow >= rowTaps || tapColumn < 0 || tapColumn >= size) continue;
                inside[target * positions + source] = true;
                taps[target * positions + source] = tapRow * size + tapColumn;
            }
        var mask = tensor(inside, dtype: ScalarType.Bool).view(positions, positions);
        var tapIndex = tensor(taps, dtype: int64).view(positions * positions);
        var bias = w.flatten(1).index_select(1, tapIndex).view(heads, positions, positions);       // [heads, target, source]

        var headWidth = width / heads;
        var kf = k.reshape(batch, positions, heads).permute(0, 2, 1).unsqueeze(2);              // [B, heads, 1, source]
        var vf = v.reshape(batch, positions, heads, headWidth).permute(0, 2, 1, 3);               // [B, heads, source, d/h]
        var exponent = kf + bias.unsqueeze(0);                                                    // [B, heads, target, source]
        var weights = exponent.exp() * mask.to(float64);                                          // the window only
        var numerator = weights.matmul(vf);                                                       // [B, heads, target, d/h]
        var denominator = weights.sum(3, keepdim: true);
        var mixed = (numerator / denominator).permute(0, 2, 1, 3).reshape(q.shape);
        return q.sigmoid() * mixed;
    }
}
