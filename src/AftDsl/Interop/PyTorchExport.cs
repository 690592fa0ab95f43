using System.Text.Json;
using TorchSharp;

namespace AftDsl.Interop;

/// <summary>The files of one export: the state dict, the architecture and the PyTorch module that reads both.</summary>
/// <param name="Folder">The folder that holds them.</param>
/// <param name="Weights">The state dict (<see cref="PyTorchFiles.Weights"/>).</param>
/// <param name="Architecture">The architecture (<see cref="PyTorchFiles.Architecture"/>).</param>
/// <param name="Module">The PyTorch reference module (<see cref="PyTorchReference.FileName"/>).</param>
public sealed record PyTorchExportFiles(string Folder, string Weights, string Architecture, string Module);

/// <summary>
/// Exports a generated model for PyTorch: its state dict as <c>torch.save</c> writes one, an <c>architecture.json</c>
/// that describes it, and <c>aftdsl_torch.py</c>, whose <c>load(folder)</c> returns an <c>nn.Module</c> of the same
/// architecture, with the same state-dict names, and these weights.
/// </summary>
public static class PyTorchExport
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>
    /// Writes the three files into <paramref name="folder"/> (created if needed; files of an earlier export are replaced).
    /// Each file is written beside its final name and renamed over it, so a crash leaves the old file or the new one.
    /// </summary>
    /// <exception cref="NotSupportedException">The model is not one the DSL generated, or has a stage the export does not know.
    /// Nothing is written.</exception>
    public static PyTorchExportFiles Write(torch.nn.Module model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var architecture = ArchitectureReader.Describe(model).ToJsonString(Indented) + "\n";
        Directory.CreateDirectory(folder);
        var files = new PyTorchExportFiles(folder,
            Path.Combine(folder, PyTorchFiles.Weights), Path.Combine(folder, PyTorchFiles.Architecture), Path.Combine(folder, PyTorchReference.FileName));
        Replace(files.Weights, temporary => StateDictFile.Write(model, temporary));
        Replace(files.Architecture, temporary => File.WriteAllText(temporary, architecture));
        Replace(files.Module, temporary => File.WriteAllText(temporary, PyTorchReference.Source));
        return files;
    }

    static void Replace(string path, Action<string> write)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
