using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Decoding;

/// <summary>Run-time checks at the entry of generated <c>Step</c> methods, worded like the forward's guards.</summary>
public static class StepGuard
{
    /// <summary>Requires <paramref name="input"/> to be one position of each sequence, <c>[B, dim]</c> with B the state's batch, like the layer's <paramref name="parameter"/>.</summary>
    public static void Features(Tensor input, string layer, long dim, DecodingState state, Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(state);
        // Checked through dim() and size(), which read no shape array: every step of every mixer passes here.
        if (input.dim() == 2 && input.size(0) == state.Batch && input.size(1) == dim && input.dtype == parameter.dtype
            && input.device_type == parameter.device_type && input.device_index == parameter.device_index)
            return;
        var expected = $"[{state.Batch}, {dim}] (one position of each of the {state.Batch} sequences)";
        var actual = ShapeGuard.Describe(input.shape);
        if (input.dim() != 2 || input.shape[0] != state.Batch || input.shape[1] != dim)
            throw new AftShapeException(layer, expected, actual,
                input.dim() == 3 ? "Step takes one position per sequence; a whole sequence [B, T, dim] goes through forward." : "Step takes [batch, features].",
                nameof(input));
        if (input.dtype != parameter.dtype || input.device_type != parameter.device_type || input.device_index != parameter.device_index)
            throw new AftShapeException(layer, expected, $"{actual} of {input.dtype} on {input.device}",
                $"the input must have the layer's dtype {parameter.dtype} and device {parameter.device}.", nameof(input));
    }

    /// <summary>
    /// True when <paramref name="tokens"/> is a contiguous int64 CPU tensor whose ids all lie in [0, vocab): read in place,
    /// without the five libtorch calls of the general check (a batch-1 step's largest cost after its projections).
    /// </summary>
    static unsafe bool TokensInRange(Tensor tokens, long vocab)
    {
        if (tokens.device_type != DeviceType.CPU || tokens.dtype != ScalarType.Int64 || !tokens.is_contiguous())
            return false;
        var ids = new ReadOnlySpan<long>((void*)Native.TensorMemory.Address(tokens, ScalarType.Int64, DeviceType.CPU, nameof(tokens)), (int)tokens.NumberOfElements);
        foreach (var id in ids)
            if ((ulong)id >= (ulong)vocab)
                return false;
        GC.KeepAlive(tokens);
        return true;
    }

    /// <summary>Requires <paramref name="tokens"/> to be one integer token id below <paramref name="vocab"/> per sequence, <c>[B]</c>.</summary>
    public static void Tokens(Tensor tokens, string model, long vocab, DecodingState state)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(state);
        var expected = $"[{state.Batch}] int64 token ids below {vocab} (the next token of each sequence)";
        var actual = ShapeGuard.Describe(tokens.shape);
        if (tokens.dim() != 1 || tokens.shape[0] != state.Batch)
            throw new AftShapeException(model, expected, actual,
                tokens.dim() == 2 ? "Step takes one token per sequence; a whole sequence [B, T] goes through forward." : "Step takes [batch] token ids.",
                nameof(tokens));
        if (tokens.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new AftShapeException(model, expected, $"{actual} of {tokens.dtype}", $"token ids must be integers, not {tokens.dtype}.", nameof(tokens));
        if (TokensInRange(tokens, vocab))
            return;
        using (var outside = (tokens < 0).logical_or_(tokens >= vocab).any())      // one read of the device per step
            if (!outside.item<bool>())
                return;
        using var min = tokens.min();
        using var max = tokens.max();
        var (low, high) = (min.ToInt64(), max.ToInt64());
            throw new AftShapeException(model, expected, actual, $"token ids must lie in [0, {vocab}), but they range over [{low}, {high}].", nameof(tokens));
    }
}
