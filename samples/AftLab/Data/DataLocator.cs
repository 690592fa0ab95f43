using Spectre.Console;

namespace AftLab.Data;

/// <summary>
/// Finds the real data: <c>--data PATH</c> when given, else the Debian packages' files, else the small
/// samples the app carries, announced in one line with how to get the real data.
/// </summary>
public static class DataLocator
{
    /// <summary>Where the Debian packages install their data: /usr/share, or AFTLAB_PACKAGE_ROOT (a copy elsewhere, or none at all).</summary>
    static string PackageRoot => Environment.GetEnvironmentVariable("AFTLAB_PACKAGE_ROOT") is { Length: > 0 } root ? root : "/usr/share";

    public static string FashionMnistFolder => Path.Combine(PackageRoot, "datasets", "fashion-mnist");

    public static string GcideFile => Path.Combine(PackageRoot, "dictd", "gcide.dict.dz");
    static string Carried => Path.Combine(AppContext.BaseDirectory, "Data");

    /// <summary>Fashion-MNIST from <paramref name="data"/>, the dataset-fashion-mnist package, or the 1,000-image sample.</summary>
    public static ImageSet Images(string? data)
    {
        if (data is not null)
            return ImageSet.Load(data, $"IDX images from {data}");
        if (Directory.Exists(FashionMnistFolder))
            return ImageSet.Load(FashionMnistFolder, "Fashion-MNIST (dataset-fashion-mnist): 60,000 training and 10,000 test images");
        Announce("Fashion-MNIST is not installed: using the 1,000 training and 200 test images the app carries",
            "apt-get install dataset-fashion-mnist, or --data DIR with the IDX files");
        return ImageSet.Load(Path.Combine(Carried, "fashion-mnist-sample"), "the Fashion-MNIST sample carried by the app: 1,000 training and 200 test images");
    }

    /// <summary>
    /// Text from <paramref name="data"/> (enwik8 if it is 100,000,000 bytes, else any raw or gzip file), the
    /// dict-gcide package, or the GCIDE excerpt the app carries.
    /// </summary>
    public static (ByteSource Source, string Description, bool Enwik8) Text(string? data)
    {
        if (data is not null)
        {
            if (IsGzip(data))
                return (ByteSource.Gzip(data), $"text from {data}", false);
            // enwik8 is known by its name or its exact length; by name, any other length is a damaged copy.
            var enwik8 = Path.GetFileName(data) == "enwik8" || (File.Exists(data) && new FileInfo(data).Length == Enwik8Length);
            return (ByteSource.Map(data, enwik8 ? Enwik8Length : 0), enwik8 ? "enwik8 (90M / 5M / 5M split)" : $"text from {data}", enwik8);
        }
        if (File.Exists(GcideFile))
            return (ByteSource.Gzip(GcideFile), "GCIDE (dict-gcide): 39,952,321 bytes of dictionary text", false);
        Announce("GCIDE is not installed: using the 1.2 MB excerpt the app carries", "apt-get install dict-gcide, or --data FILE (enwik8, or any text or gzip file)");
        return (ByteSource.Gzip(Path.Combine(Carried, "gcide-excerpt.txt.gz")), "the GCIDE excerpt carried by the app (1,200,197 bytes)", false);
    }

    public const long Enwik8Length = 100_000_000;

    static bool IsGzip(string path)
    {
        if (!File.Exists(path)) return false;
        using var file = File.OpenRead(path);
        return file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
    }

    static void Announce(string what, string how) =>
        AnsiConsole.MarkupLineInterpolated($"[yellow]Note:[/] {what}. For the real data: {how}.");
}
