namespace AftDsl.Generators.Diagnostics;

/// <summary>
/// Keys of the values a diagnostic hands to its code fix through <c>Diagnostic.Properties</c>, so that a fix
/// never parses a message. The code-fix project links this file, so both sides spell the keys alike.
/// </summary>
internal static class FixProperties
{
    /// <summary>AFT0201: the head count written.</summary>
    public const string Heads = "Heads";

    /// <summary>AFT0102: the layer's maxLength, the largest valid FactorRank.</summary>
    public const string MaxLength = "MaxLength";

    /// <summary>AFT0201: the width the heads must divide (the layer's own Dim, or the one its model binds).</summary>
    public const string Dim = "Dim";
}
