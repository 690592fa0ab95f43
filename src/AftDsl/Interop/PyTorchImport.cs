using TorchSharp;
using static TorchSharp.torch;

namespace AftDsl.Interop;

/// <summary>Loads a PyTorch state dict (a <c>torch.save(model.state_dict(), path)</c> file) into a generated model.</summary>
public static class PyTorchImport
{
    /// <summary>
    /// Copies every tensor of the state dict in <paramref name="path"/> into the parameter or buffer of
    /// <paramref name="model"/> of the same name, converting the dtype (float64 into float32, say) and moving it to the
    /// model's device. The file must fit exactly: otherwise nothing is loaded, and the exception names every key that
    /// does not fit.
    /// </summary>
    /// <exception cref="StateDictMismatchException">Keys are missing, unexpected, mis-shaped or of the wrong kind.</exception>
    /// <exception cref="StateDictFormatException">The file is not a PyTorch state dict.</exception>
    public static void Load(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var loaded = StateDictFile.Read(path);
        try
        {
            Load(model, loaded, path);
        }
        finally
        {
            foreach (var tensor in loaded.Values) tensor.Dispose();
        }
    }

    /// <summary>
    /// Copies <paramref name="stateDict"/> into <paramref name="model"/>, as <see cref="Load(nn.Module, string)"/> does
    /// with a file; <paramref name="source"/> names where the tensors came from in the error message.
    /// </summary>
    public static void Load(nn.Module model, IReadOnlyDictionary<string, Tensor> stateDict, string source = "the state dict")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(stateDict);
        var targets = model.state_dict();
        var problems = StateDictFit.Compare(
            targets.Select(e => KeyValuePair.Create(e.Key, StateDictEntry.Of(e.Value))).ToList(),
            stateDict.Select(e => KeyValuePair.Create(e.Key, StateDictEntry.Of(e.Value))).ToList());
        if (problems.Count > 0)
            throw new StateDictMismatchException(source, model.GetType().FullName ?? model.GetName(), problems);
        using var noGrad = no_grad();
        foreach (var (name, target) in targets)
            target.copy_(stateDict[name]);
    }
}
