using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AftLab.Training;

/// <summary>
/// Mixed precision's working copy: a second instance of the model, in bfloat16, that each training step's forward and
/// backward run on, while the model it copies keeps the float32 master weights, which the optimizer steps, clipping
/// measures, checkpoints save, and evaluation and sampling use. bfloat16 has float32's range but 8 bits of mantissa:
/// an AdamW update is often below half a bfloat16 weight's rounding step and would be lost if the weights themselves
/// were bfloat16; the masters accumulate every update in float32, and the working copy takes them, rounded, afresh
/// before each step.
/// </summary>
/// <remarks>
/// A step is <see cref="LoadMasters"/>, the loss of <see cref="forward"/>, <see cref="ZeroGradients"/>, backward, and
/// <see cref="StoreGradients"/>; the optimizer then steps the masters on float32 gradients. The forward casts
/// floating-point inputs (images) to the working dtype and the output back to float32, so that the loss is computed
/// in float32.
/// </remarks>
public sealed class WorkingCopy : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> replica;
    readonly ScalarType dtype;
    readonly (Parameter Master, Parameter Working)[] pairs;

    /// <param name="master">The float32 model being trained.</param>
    /// <param name="replica">A fresh instance of the same model class, which becomes the working copy (moved to <paramref name="device"/> and cast).</param>
    public WorkingCopy(nn.Module<Tensor, Tensor> master, nn.Module<Tensor, Tensor> replica, ScalarType dtype, Device device) : base("working_copy")
    {
        if (dtype is not (ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"A working copy needs a floating-point dtype, not {dtype}.");
        this.replica = replica;
        this.dtype = dtype;
        replica.to(device).to(dtype);
        replica.train();
        var working = replica.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var masters = master.named_parameters().ToList();
        var mismatched = masters.Where(p => !working.TryGetValue(p.name, out var w) || !w.shape.SequenceEqual(p.parameter.shape)).Select(p => p.name)
            .Concat(working.Keys.Except(masters.Select(p => p.name))).ToList();
        if (mismatched.Count > 0)
            throw new ArgumentException($"The replica is not the same model as the master: {string.Join(", ", mismatched.Take(5))} differ.");
        pairs = [.. masters.Select(p => (p.parameter, working[p.name]))];
        // Buffers are constants of the architecture here (no model keeps running statistics), so one copy suffices.
        using (no_grad())
        {
            var buffers = replica.named_buffers().ToDictionary(b => b.name, b => b.buffer);
            foreach (var (name, buffer) in master.named_buffers())
                if (buffers.TryGetValue(name, out var copy)) copy.copy_(buffer);
        }
        register_module("replica", replica);
    }

    /// <summary>The dtype the forward and backward run in.</summary>
    public ScalarType Dtype => dtype;

    /// <summary>The masters' current weights, rounded to the working dtype, as the working copy's weights.</summary>
    public void LoadMasters()
    {
        using var noGrad = no_grad();
        foreach (var (master, working) in pairs)
            working.copy_(master);
    }

    /// <summary>Clears the working copy's gradients before a backward (the optimizer clears only the masters').</summary>
    public void ZeroGradients() => replica.zero_grad();

    /// <summary>
    /// The working copy's gradients, widened to float32 (exactly: every bfloat16 value is a float32), as the masters'
    /// gradients, which the optimizer, clipping and the data-parallel average then read. A parameter the loss did not
    /// reach has no gradient in the working copy and gets none on its master, as in float32 training.
    /// </summary>
    public void StoreGradients()
    {
        using var noGrad = no_grad();
        foreach (var (master, working) in pairs)
        {
            using var gradient = working.grad;
            using var existing = master.grad;
            if (gradient is null)
                master.grad = null;
            else if (existing is not null)
                existing.copy_(gradient);
            else
            {
                // The master holds its own reference: disposing this handle leaves the gradient in place.
                using var widened = gradient.to(master.dtype);
                master.grad = widened;
            }
        }
    }

    public override Tensor forward(Tensor input)
    {
        var output = replica.forward(input.is_floating_point() ? input.to(dtype) : input);
        return output.to(ScalarType.Float32);
    }
}
