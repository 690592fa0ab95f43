using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace AftDsl.Kernels;

/// <summary>
/// AFT-conv (paper Eq. 6), fused: per head i, with P = exp(K^i) (one key per head) and X = [P ⊙ V^i | P],
/// numerator and denominator are a depthwise convolution of X with the kernel exp(w^i) − 1 ("same"
/// padding, or the past only when causal) plus the global sums of X. This is AFT-local with relative
/// position biases shared by each head's d/h channels. Inputs are channels-last: <c>[B, T, ·]</c> for a
/// sequence (w: <c>[heads, s]</c>) or <c>[B, H, W, ·]</c> for a grid (w: <c>[heads, s, s]</c>), of any size:
/// the layer has no absolute positions.
/// </summary>
/// <remarks>
/// <para>Shifts: non-causal, each head's keys are shifted by their max over all positions, and each head's
/// kernel by ρ_i = max(0, max w^i), which scales its global part by e^{−ρ_i}. Causal (sequences only), the
/// global sums come from <see cref="RunningMaxScan"/> and the kernel taps are weighted per position by
/// exp(K_t' − ρ_t), ρ_t the largest exponent in the position's window; the two meet at the larger shift.</para>
/// <para>Window connectivity (<see cref="AftConvConnectivity.Window"/>): the kernel is e^{w^i} and there are no global
/// sums (no running scan when causal); the kernel's shift is ρ_i = max w^i (causal: the window's largest
/// K_t' + w), so the largest term is 1. Rows whose denominator underflows are recomputed exactly.</para>
/// <para>Backward: the transposed convolution and the kernel gradient come from libtorch's own convolution
/// backward (through a local autograd call on the convolution alone); everything around it is written by hand.
/// Rows whose denominator cancels or underflows are recomputed exactly (<see cref="ExactRows"/>).</para>
/// </remarks>
internal static class AftConvOperators
{
    const string CausalKey = "causal", WindowKey = "window-only";
    const double CancellationLimit = 1.0 / 16;

    /// <summary>
    /// <paramref name="q"/>, <paramref name="v"/>: <c>[B, *grid, D]</c>; <paramref name="k"/>: <c>[B, *grid, heads]</c>;
    /// <paramref name="w"/>: the effective kernel biases, <c>[heads, s]</c> or <c>[heads, s, s]</c>; <paramref name="windowOnly"/>:
    /// sources outside the window do not count (w = −∞ there) rather than counting with w = 0.
    /// </summary>
    public static Tensor Forward(AutogradContext ctx, Tensor q, Tensor k, Tensor v, Tensor w, bool causal, bool windowOnly = false)
    {
        using var scope = NewDisposeScope();
        var shape = new ConvShape(k, v, w);
        if (causal && shape.Spatial != 1)
            throw new ArgumentException("Causal AFT-conv is defined for sequences only (a 1-d kernel).", nameof(causal));
        var kf = k.reshape(shape.Batch, shape.Positions, shape.Heads);
        var vf = v.reshape(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth);

        Tensor numerator, denominator, globalDenominator, shift, rowShift, combined;
        if (causal && windowOnly)
        {
            var taps = CausalTaps(kf, w, windowOnly);
            (numerator, denominator) = ApplyTaps(taps.Coefficients, vf);
            globalDenominator = zeros_like(denominator);                                      // nothing to cancel: only underflow is flagged
            shift = rowShift = combined = taps.Rho;
        }
        else if (causal)
        {
            var (running, sums) = RunningMaxScan.Prefix(kf.unsqueeze(3), vf, null);          // per head
            var taps = CausalTaps(kf, w, windowOnly);
            rowShift = taps.Rho;                                                              // [B, T, heads]
            combined = maximum(running.squeeze(3), rowShift);
            var globalScale = (running.squeeze(3) - combined).exp_();
            var bandScale = (rowShift - combined).exp_();
            var (bandNumerator, bandDenominator) = ApplyTaps(taps.Coefficients, vf);
            numerator = sums[0].mul_(globalScale.unsqueeze(3)).addcmul_(bandNumerator, bandScale.unsqueeze(3), 1);
            globalDenominator = sums[1].squeeze(3).mul_(globalScale);
            denominator = addcmul(globalDenominator, bandDenominator, bandScale, 1);
            shift = running;                                                                 // unused by the backward; keeps the saved list uniform
        }
        else
        {
            shift = kf.amax([1], keepdim: true);                                              // [B, 1, heads]
            var (weight, _, channelScale) = Kernel(w, shape, windowOnly);
            Tensor sums, totals;
            using (NewDisposeScope())
            {
                var x = Stack(kf, vf, shift, shape);                                          // [B, P, D + heads]
                totals = x.sum(1, keepdim: true).mul_(channelScale).MoveToOuterDisposeScope();
                sums = Convolve(x, weight, shape).add_(totals).MoveToOuterDisposeScope();
            }
            numerator = sums.narrow(2, 0, shape.Width).view(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth);
            denominator = sums.narrow(2, shape.Width, shape.Heads).contiguous();
            globalDenominator = totals.narrow(2, shape.Width, shape.Heads);
            rowShift = combined = shift;
        }

        var unreliable = denominator < (globalDenominator * CancellationLimit).clamp_min_(ExactRows.UnderflowThreshold(k.dtype));
        var ratio = (numerator / denominator.unsqueeze(3)).view(shape.Batch, shape.Positions, shape.Width);   // unreliable rows are overwritten
        var repaired = ExactRows.Flagged(unreliable);
        ExactRows.Repair(ratio, repaired, kf, v.reshape(shape.Batch, shape.Positions, shape.Width), RelativeBias(shape, causal, windowOnly), [w], causal);

        ctx.save_data(CausalKey, causal);
        ctx.save_data(WindowKey, windowOnly);
        SavedTensors.Save(ctx, inputs: [q, k, v, w], created: [ratio, denominator, shift, rowShift, combined, repaired]);
        return (q.sigmoid() * ratio.view(q.shape)).MoveToOuterDisposeScope();
    }

    /// <summary>Gradients of q, k, v, w (in that order).</summary>
    public static List<Tensor> Backward(AutogradContext ctx, Tensor grad)
    {
        using var scope = NewDisposeScope();
        var causal = (bool)ctx.get_data(CausalKey);
        var windowOnly = (bool)ctx.get_data(WindowKey);
        var saved = ctx.get_saved_variables();
        var (q, k, v, w) = (saved[0], saved[1], saved[2], saved[3]);
        var (ratio, denominator, shift, rowShift, combined, repaired) = (saved[4], saved[5], saved[6], saved[7], saved[8], saved[9]);
        var shape = new ConvShape(k, v, w);
        var kf = k.reshape(shape.Batch, shape.Positions, shape.Heads);
        var vf = v.reshape(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth);

        var gate = q.sigmoid();
        var dq = grad * ratio.view(q.shape) * gate * (1 - gate);
        var s = (grad * gate).reshape(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth);
        var r = ratio.view(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth);
        var hA = s / denominator.unsqueeze(3);                                                // [B, P, heads, d/h]
        var hD = (s * r).sum(3).neg_().div_(denominator);                                     // [B, P, heads]
        if (repaired.shape[0] > 0)
        {
            var zero = zeros(1, dtype: hA.dtype, device: hA.device);
            hA.index_put_(zero, repaired.select(1, 0), repaired.select(1, 1));
            hD.index_put_(zero, repaired.select(1, 0), repaired.select(1, 1));
        }

        Tensor dv, dk, dw;
        if (causal)
        {
            if (windowOnly)
                (dv, dk) = (zeros_like(vf), zeros_like(kf));                                  // no older sources: the window is everything
            else
            {
                var (running, sums) = RunningMaxScan.Suffix(combined.neg().unsqueeze(3), hA, hD.unsqueeze(3));
                var weight = running.add_(kf.unsqueeze(3)).exp_();                           // [B, T, heads, 1]
                dv = sums[0].mul_(weight);
                dk = (vf * dv).sum(3).add_(sums[1].mul_(weight).squeeze(3));
            }
            var bandScale = (rowShift - combined).exp_();
            (var dvBand, var dkBand, dw) = TapsTransposed(CausalTaps(kf, w, windowOnly), vf, hA * bandScale.unsqueeze(3), hD * bandScale);
            dv.add_(dvBand);
            dk.add_(dkBand);
        }
        else
        {
            var x = Stack(kf, vf, shift, shape);
            var p = x.narrow(2, shape.Width, shape.Heads);
            var (weight, exponentials, channelScale) = Kernel(w, shape, windowOnly);
            var upstream = cat([hA.reshape(shape.Batch, shape.Positions, shape.Width), hD], 2);   // [∂A | ∂D]
            var (transposed, dWeight) = ConvolveBackward(x, weight, upstream, shape);
            var m = transposed.add_(upstream.sum(1, keepdim: true).mul_(channelScale));
            var mA = m.narrow(2, 0, shape.Width).view(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth);
            dv = p.unsqueeze(3) * mA;
            dk = p * ((vf * mA).sum(3) + m.narrow(2, shape.Width, shape.Heads));
            // Each head's kernel is shared by its d/h numerator channels and its denominator channel.
            var perChannel = dWeight.squeeze(1);
            var numeratorPart = perChannel.narrow(0, 0, shape.Width).view([shape.Heads, shape.HeadWidth, .. w.shape.Skip(1)]).sum(1);
            dw = numeratorPart.add_(perChannel.narrow(0, shape.Width, shape.Heads)).mul_(exponentials);
        }

        dv = dv.reshape(v.shape);
        dk = dk.reshape(k.shape);
        if (repaired.shape[0] > 0)
            ExactRows.AddGradients(repaired, s.reshape(shape.Batch, shape.Positions, shape.Width), kf, v.reshape(shape.Batch, shape.Positions, shape.Width),
                RelativeBias(shape, causal, windowOnly), [w], causal, dk.view(kf.shape), dv.view(shape.Batch, shape.Positions, shape.Width), [dw]);
        return [dq.MoveToOuterDisposeScope(), dk.MoveToOuterDisposeScope(), dv.MoveToOuterDisposeScope(), dw.MoveToOuterDisposeScope()];
    }

    /// <summary>X = [P ⊙ V | P] with P = exp(K − shift), channels-last: <c>[B, P, D + heads]</c>, without temporaries.</summary>
    static Tensor Stack(Tensor kf, Tensor vf, Tensor shift, ConvShape shape)
    {
        var x = empty([shape.Batch, shape.Positions, shape.Width + shape.Heads], dtype: kf.dtype, device: kf.device);
        var p = x.narrow(2, shape.Width, shape.Heads).copy_(kf).sub_(shift).exp_();
        x.narrow(2, 0, shape.Width).view(shape.Batch, shape.Positions, shape.Heads, shape.HeadWidth).copy_(vf).mul_(p.unsqueeze(3));
        return x;
    }

    // The depthwise kernel for [numerator channels | denominator channels]: e^{w−ρ} − e^{−ρ} per head,
    // repeated over the head's channels; also e^{w−ρ} (for ∂w) and the global parts' scale e^{−ρ} per channel.
    // Window only: the kernel e^{w−ρ} with ρ = max w (no global part to keep at most 1), and a scale of 0.
    static (Tensor Weight, Tensor Exponentials, Tensor ChannelScale) Kernel(Tensor w, ConvShape shape, bool windowOnly)
    {
        var rho = w.flatten(1).amax([1]);                                                       // [heads]
        if (!windowOnly) rho.clamp_min_(0);
        var expanded = rho.view([shape.Heads, .. Enumerable.Repeat(1L, shape.Spatial)]);
        var exponentials = (w - expanded).exp_();
        var taps = windowOnly ? exponentials : exponentials - expanded.neg().exp();
        var weight = cat([taps.repeat_interleave(shape.HeadWidth, 0), taps], 0).unsqueeze(1);  // [D + heads, 1, s(, s)]
        var scale = windowOnly ? zeros_like(rho) : rho.neg().exp();
        return (weight, exponentials, cat([scale.repeat_interleave(shape.HeadWidth, 0), scale]));
    }

    // Depthwise convolution with "same" padding of channels-last x: [B, P, C] → [B, P, C].
    static Tensor Convolve(Tensor x, Tensor weight, ConvShape shape) =>
        ChannelsLast(RunConvolution(ChannelsFirst(x, shape), weight, shape), shape);

    // Input and kernel gradients of the convolution for the upstream gradient (channels-last).
    static (Tensor Input, Tensor Kernel) ConvolveBackward(Tensor x, Tensor weight, Tensor upstream, ConvShape shape)
    {
        using var grad = enable_grad();
        var input = ChannelsFirst(x, shape).detach().requires_grad_();
        var kernel = weight.detach().requires_grad_();
        var output = RunConvolution(input, kernel, shape);
        var grads = autograd.grad([output], [input, kernel], [ChannelsFirst(upstream, shape)]);
        return (ChannelsLast(grads[0], shape), grads[1]);
    }

    static Tensor RunConvolution(Tensor input, Tensor weight, ConvShape shape)
    {
        var size = weight.shape[2];
        var (before, after) = ((size - 1) / 2, size - 1 - (size - 1) / 2);                    // PyTorch's "same"
        var groups = weight.shape[0];
        return shape.Spatial == 1
            ? nn.functional.conv1d(nn.functional.pad(input, [before, after]), weight, groups: groups)
            : nn.functional.conv2d(nn.functional.pad(input, [before, after, before, after]), weight, groups: groups);
    }

    static Tensor ChannelsFirst(Tensor x, ConvShape shape) =>
        x.transpose(1, 2).reshape([shape.Batch, x.shape[2], .. shape.Grid]);

    static Tensor ChannelsLast(Tensor x, ConvShape shape) =>
        x.reshape(shape.Batch, x.shape[1], shape.Positions).transpose(1, 2);

    // Causal taps: for each position t and tap j (source t − (s − 1 − j)), the coefficient
    // e^{w_j + K_t' − ρ_t} − e^{K_t' − ρ_t}, and e^{w_j + K_t' − ρ_t}; ρ_t the window's largest exponent.
    // Window only: the coefficient is e^{w_j + K_t' − ρ_t} itself (no global part to correct).
    sealed record Taps(Tensor Coefficients, Tensor Exponentials, Tensor Rho, long Size);

    static Taps CausalTaps(Tensor kf, Tensor w, bool windowOnly)
    {
        var size = w.shape[1];
        var windows = nn.functional.pad(kf, [0, 0, size - 1, 0], value: double.NegativeInfinity).unfold(1, size, 1);   // [B, T, heads, s]
        var withBias = windows + w;
        var rho = windowOnly ? withBias.amax([3]) : maximum(withBias.amax([3]), windows.amax([3]));   // t' = t is always there: finite
        var exponentials = withBias.sub_(rho.unsqueeze(3)).exp_();
        var coefficients = windowOnly ? exponentials : exponentials - (windows - rho.unsqueeze(3)).exp_();
        return new Taps(coefficients, exponentials, rho, size);
    }

    // Σ_j c_j ⊙ [V | 1] at the tap's source: [B, T, heads, d/h] and [B, T, heads].
    static (Tensor Numerator, Tensor Denominator) ApplyTaps(Tensor coefficients, Tensor vf)
    {
        var size = coefficients.shape[3];
        var length = vf.shape[1];
        var padded = nn.functional.pad(vf, [0, 0, 0, 0, size - 1, 0]);
        var numerator = zeros_like(vf);
        for (long j = 0; j < size; j++)
            numerator.addcmul_(coefficients.select(3, j).unsqueeze(3), padded.narrow(1, j, length), 1);
        return (numerator, coefficients.sum(3));
    }

    // The transpose of ApplyTaps for target gradients (a, d) = ([B, T, heads, d/h], [B, T, heads]):
    // ∂V and ∂K at the sources, and ∂w per tap.
    static (Tensor DV, Tensor DK, Tensor DW) TapsTransposed(Taps taps, Tensor vf, Tensor a, Tensor d)
    {
        var (size, length) = (taps.Size, vf.shape[1]);
        var padded = nn.functional.pad(vf, [0, 0, 0, 0, size - 1, 0]);
        var dvPadded = zeros_like(padded);
        var dkPadded = zeros([vf.shape[0], length + size - 1, vf.shape[2]], dtype: vf.dtype, device: vf.device);
        var dw = zeros([vf.shape[2], size], dtype: vf.dtype, device: vf.device);
        for (long j = 0; j < size; j++)
        {
            using var step = NewDisposeScope();
            var coefficient = taps.Coefficients.select(3, j);                                  // [B, T, heads], target-indexed
            dvPadded.narrow(1, j, length).addcmul_(coefficient.unsqueeze(3), a, 1);
            var g = (padded.narrow(1, j, length) * a).sum(3).add_(d);                         // ∂(numerator, denominator) · (V, 1) at the source
            dkPadded.narrow(1, j, length).addcmul_(coefficient, g, 1);
            dw.select(1, j).add_((taps.Exponentials.select(3, j) * g).sum([0, 1]));
        }
        return (dvPadded.narrow(1, size - 1, length), dkPadded.narrow(1, size - 1, length), dw);
    }

    /// <summary>Bias rows for the exact path: w^i at each source's offset from the target, 0 (window only: −∞) outside the kernel: <c>[n, P, heads]</c>.</summary>
    static BiasRows RelativeBias(ConvShape shape, bool causal, bool windowOnly) => (targets, positions, parameters) =>
    {
        var w = parameters[0];
        var size = w.shape[1];
        var before = causal ? size - 1 : (size - 1) / 2;
        var width = shape.Spatial == 1 ? positions : shape.Grid[1];
        var sources = arange(positions, device: w.device);
        Tensor Offset(Tensor of, bool column) => shape.Spatial == 1 || column ? of % width : of.div(width, rounding_mode: RoundingMode.floor);
        var rows = shape.Spatial == 1
            ? Tap(sources.unsqueeze(0) - targets.unsqueeze(1), before, size)
            : Tap(Offset(sources, false).unsqueeze(0) - Offset(targets, false).unsqueeze(1), before, size);
        var (index, inside) = rows;
        if (shape.Spatial == 1)
            return Outside(w.t().index_select(0, index.flatten()).view(targets.shape[0], positions, shape.Heads), inside.unsqueeze(2), windowOnly);
        var (columnIndex, columnInside) = Tap(Offset(sources, true).unsqueeze(0) - Offset(targets, true).unsqueeze(1), before, size);
        var flat = (index * size + columnIndex).flatten();
        return Outside(w.flatten(1).t().index_select(0, flat).view(targets.shape[0], positions, shape.Heads), inside.logical_and(columnInside).unsqueeze(2), windowOnly);
    };

    // Biases outside the kernel: 0 (global connectivity) or −∞ (window only).
    static Tensor Outside(Tensor biases, Tensor inside, bool windowOnly) =>
        windowOnly ? biases.masked_fill(inside.logical_not(), double.NegativeInfinity) : biases * inside;

    // Tap index of an offset (source − target) and whether it falls inside the kernel.
    static (Tensor Index, Tensor Inside) Tap(Tensor offset, long before, long size)
    {
        var index = offset + before;
        var inside = (index >= 0).logical_and(index < size);
        return (index.clamp(0, size - 1), inside);
    }

    /// <summary>Sizes of one AFT-conv call.</summary>
    sealed record ConvShape(long Batch, long[] Grid, long Heads, long Width, int Spatial)
    {
        public ConvShape(Tensor k, Tensor v, Tensor w)
            : this(k.shape[0], k.shape.Skip(1).Take((int)w.dim() - 1).ToArray(), k.shape[^1], v.shape[^1], (int)w.dim() - 1)
        {
            if (k.dim() != Spatial + 2 || v.dim() != Spatial + 2)
                throw new ArgumentException($"AFT-conv with a {Spatial}-d kernel takes [B, {(Spatial == 1 ? "T" : "H, W")}, channels] inputs; got k {ShapeGuard.Describe(k.shape)} and v {ShapeGuard.Describe(v.shape)}.");
            if (Width % Heads != 0)
                throw new ArgumentException($"AFT-conv: {Heads} heads must divide the width {Width}.");
        }

        public long Positions => Grid.Aggregate(1L, (a, b) => a * b);
        public long HeadWidth => Width / Heads;
    }
}
