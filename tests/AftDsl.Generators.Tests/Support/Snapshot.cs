using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.Renderer;
using Microsoft.CodeAnalysis;
using Xunit;

namespace AftDsl.Generators.Tests.Support;

/// <summary>
/// Snapshot assertions with Verify's conventions, so that a later switch to Verify is mechanical:
/// one file per generated source, <c>_snapshots/{TestClass}.{TestMethod}#{HintName}.verified.cs</c>,
/// LF line endings, <c>*.received.*</c> written beside it on a mismatch (and ignored by git).
/// A missing or different snapshot fails with a unified diff. Locally, set
/// <c>AFTDSL_ACCEPT_SNAPSHOTS=1</c> to accept received files; under <c>CI=true</c> nothing is accepted.
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "AFTDSL_ACCEPT_SNAPSHOTS";

    static bool Accepting =>
        Environment.GetEnvironmentVariable(AcceptVariable) == "1"
        && !string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Checks every source the generator produced, and that no snapshot of this test is left over.</summary>
    public static void VerifyGenerated(GeneratorRun result, [CallerFilePath] string testFile = "", [CallerMemberName] string testMethod = "")
    {
        var sources = result.Results.SelectMany(r => r.GeneratedSources).ToList();
        Assert.NotEmpty(sources);
        var folder = Path.Combine(Path.GetDirectoryName(testFile)!, "_snapshots");
        var prefix = $"{Path.GetFileNameWithoutExtension(testFile)}.{testMethod}#";
        var expectedNames = new HashSet<string>();
        var failures = new StringBuilder();
        foreach (var source in sources)
        {
            var name = prefix + Path.GetFileNameWithoutExtension(source.HintName) + ".verified.cs";
            expectedNames.Add(name);
            var failure = Compare(Path.Combine(folder, name), source.SourceText.ToString());
            if (failure is not null) failures.AppendLine(failure);
        }
        foreach (var stale in Directory.Exists(folder) ? Directory.GetFiles(folder, prefix + "*.verified.cs") : [])
            if (!expectedNames.Contains(Path.GetFileName(stale)))
                failures.AppendLine($"{Path.GetFileName(stale)}: the generator no longer produces this file; delete the snapshot.");
        if (failures.Length > 0)
            Assert.Fail(failures.ToString());
    }

    // The snapshots say {version} where the generator writes its version, so that a release changes none of them.
    static readonly string VersionStamp =
        $"GeneratedCode(\"AftDsl.Generators\", \"{typeof(AftLayerGenerator).Assembly.GetName().Version!.ToString(3)}\")";

    static string? Compare(string verifiedPath, string actual)
    {
        actual = actual.Replace("\r\n", "\n").Replace(VersionStamp, "GeneratedCode(\"AftDsl.Generators\", \"{version}\")");
        var receivedPath = verifiedPath.Replace(".verified.", ".received.");
        var verified = File.Exists(verifiedPath) ? File.ReadAllText(verifiedPath) : null;
        if (verified == actual)
        {
            File.Delete(receivedPath);
            return null;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(verifiedPath)!);
        if (Accepting)
        {
            File.WriteAllText(verifiedPath, actual, new UTF8Encoding(false));
            File.Delete(receivedPath);
            return null;
        }
        File.WriteAllText(receivedPath, actual, new UTF8Encoding(false));
        var name = Path.GetFileName(verifiedPath);
        return verified is null
            ? $"{name}: no snapshot yet. Review {receivedPath}, then rename it to .verified.cs or run with {AcceptVariable}=1."
            : $"{name}: generated code differs from the snapshot (received file: {receivedPath}).\n" +
              UnidiffRenderer.GenerateUnidiff(verified, actual, "verified", "received", ignoreWhitespace: false);
    }
}
