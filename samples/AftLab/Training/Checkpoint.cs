using TorchSharp;

namespace AftLab.Training;

/// <summary>Saves weights atomically: a crash while writing never leaves a torn file behind.</summary>
public static class Checkpoint
{
    public const string FileName = "model.dat";

    public static string Save(torch.nn.Module model, string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.GetFullPath(Path.Combine(folder, FileName));
        var temporary = path + ".tmp";
        model.save(temporary);
        File.Move(temporary, path, overwrite: true);
        return path;
    }
}
