using System.Text;

namespace AftLab.Runtime;

/// <summary>
/// Files a user would miss are never left half-written: each is written to a temporary file beside it and
/// renamed over the old one (atomic on POSIX), so a crash leaves either the old file or the new one.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, which receives the temporary path (same extension).</summary>
    public static void Write(string path, Action<string> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temporary = Path.Combine(folder, $".{Path.GetFileNameWithoutExtension(path)}.tmp{Path.GetExtension(path)}");
        write(temporary);
        File.Move(temporary, path, overwrite: true);
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, temporary => File.WriteAllText(temporary, text, new UTF8Encoding(false)));
}
