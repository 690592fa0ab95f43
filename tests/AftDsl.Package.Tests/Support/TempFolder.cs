namespace AftDsl.Package.Tests.Support;

/// <summary>
/// A folder of its own under the temp directory, outside the repository (so that none of its Directory.Build files
/// apply), unique per use because test classes run in parallel; deleted on dispose.
/// </summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"aftdsl-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>A subfolder, created.</summary>
    public string Sub(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Path, name)).FullName;

    /// <summary>Writes <paramref name="text"/> to the relative <paramref name="file"/>, creating its folder.</summary>
    public string Write(string file, string text)
    {
        var path = System.IO.Path.Combine(Path, file);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A build server may still hold a file for a moment; the temp directory is cleaned by the system later.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
