using Xunit;

namespace AftDsl.Package.Tests.Support;

/// <summary>The test classes that share one packed library (packing once; its consumers restore into one packages folder).</summary>
[CollectionDefinition(Name)]
public sealed class PackedLibraryCollection : ICollectionFixture<PackedLibrary>
{
    public const string Name = "Packed library";
}
