using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace AftDsl.Interop;

/// <summary>
/// State dicts in PyTorch's own file format, through TorchSharp.PyBridge: what <c>torch.save(model.state_dict(), path)</c>
/// writes and <c>torch.load(path)</c> reads (the zip layout of PyTorch 1.6 and later).
/// </summary>
public static class StateDictFile
{
    /// <summary>Writes the parameters and buffers of <paramref name="model"/> to <paramref name="path"/>, under their state-dict names.</summary>
    public static void Write(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.save_py(path);
    }

    /// <summary>
    /// Reads every tensor of the state dict in <paramref name="path"/>, by name, on the CPU. The caller owns (and
    /// disposes) the tensors.
    /// </summary>
    /// <exception cref="StateDictFormatException">The file is not a state dict PyTorch saved with <c>torch.save</c>.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file.", path);
        System.Collections.Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream);
        }
        catch (Exception e) when (e is NotImplementedException or InvalidDataException or InvalidCastException or InvalidOperationException
                                       or Razorvine.Pickle.PickleException or EndOfStreamException)
        {
            throw new StateDictFormatException(
                $"{path} is not a PyTorch state dict ({e.Message}). Save one with torch.save(model.state_dict(), path) (PyTorch 1.6 or later).", e);
        }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in table)
            if (entry is { Key: string name, Value: Tensor tensor })
                tensors[name] = tensor;
        return tensors;
    }
}
