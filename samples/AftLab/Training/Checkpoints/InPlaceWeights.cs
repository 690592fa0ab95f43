using TorchSharp;

namespace AftLab.Training.Checkpoints;

/// <summary>
/// Loads a module's weights file (TorchSharp's format, as <c>Module.save</c> writes it) into the module's own tensors, on
/// whatever device they are. TorchSharp's <c>Module.load</c> moves a GPU module to the CPU and back to load it, which
/// gives every parameter a new tensor; an optimizer made before then still holds the old ones and keys its state by
/// them, so on a GPU it could not load AdamW's state (a missing key), and would otherwise step tensors the model no
/// longer uses. Here every parameter and buffer keeps its identity: the optimizer given to <see cref="CheckpointStore.Restore"/>
/// stays bound to the model.
/// </summary>
public static class InPlaceWeights
{
    /// <summary>Reads <paramref name="file"/> into <paramref name="module"/>'s state dict; throws naming the first entry that does not fit.</summary>
    public static void Load(torch.nn.Module module, string file)
    {
        var targets = module.state_dict();
        using var stream = File.OpenRead(file);
        using var reader = new BinaryReader(stream);
        var entries = Leb128(reader);
        if (entries != targets.Count)
            throw new InvalidDataException($"it holds {entries} tensors, and the model has {targets.Count}.");
        using var noGrad = torch.no_grad();
        for (var i = 0; i < entries; i++)
        {
            var name = reader.ReadString();
            if (!targets.TryGetValue(name, out var target))
                throw new InvalidDataException($"it holds '{name}', which the model does not have.");
            target.Load(reader);                                            // copies through the CPU into a tensor on another device
        }
        if (stream.Position != stream.Length)
            throw new InvalidDataException($"{stream.Length - stream.Position:N0} bytes follow the last tensor.");
    }

    /// <summary>TorchSharp's integer coding (unsigned LEB128: 7 bits a byte, low bits first, the top bit set on all but the last).</summary>
    static long Leb128(BinaryReader reader)
    {
        long value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            value |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("a length is not a valid LEB128 number.");
    }
}
