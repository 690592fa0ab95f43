namespace AftDsl.Tests.Interop;

/// <summary>A fresh folder for one test's export, removed afterwards.</summary>
public sealed class ExportFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("aftdsl-interop-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
