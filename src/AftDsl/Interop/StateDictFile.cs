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
    /// Reads every tensor of the state dict in <paramref name="path"/>, by name (in ordinal order of the names), on the
    /// CPU. The caller owns (and disposes) the tensors.
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
        // By name: the pickle's own order is lost in PyBridge's Hashtable, and messages that list keys should not vary from run to run.
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in table.Cast<System.Collections.DictionaryEntry>()
                     .Where(e => e is { Key: string, Value: Tensor })
                     .Select(e => ((string)e.Key, (Tensor)e.Value!))
                     .OrderBy(e => e.Item1, StringComparer.Ordinal))
            tensors[name] = tensor;
        return tensors;
    }
}
