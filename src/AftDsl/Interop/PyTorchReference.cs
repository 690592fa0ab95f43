using System.Reflection;

namespace AftDsl.Interop;

/// <summary>
/// The plain-PyTorch twin of the generated modules, <c>aftdsl_torch.py</c>, shipped inside this assembly so that an
/// export folder carries everything PyTorch needs: <c>aftdsl_torch.load(folder)</c> builds the model from
/// <c>architecture.json</c> and loads <c>model.pt</c>.
/// </summary>
public static class PyTorchReference
{
    /// <summary>The module's file name, as <c>import aftdsl_torch</c> finds it.</summary>
    public const string FileName = "aftdsl_torch.py";

    const string ResourceName = "AftDsl.Interop.PyTorch.aftdsl_torch.py";

    /// <summary>The module's Python source.</summary>
    public static string Source { get; } = Read();

    static string Read()
    {
        using var stream = typeof(PyTorchReference).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"{ResourceName} is not embedded in {typeof(PyTorchReference).Assembly.GetName().Name}: the build lost it.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
