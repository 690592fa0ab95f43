using AftDsl.Generators.Diagnostics;

namespace AftDsl.Generators.Parsing;

/// <summary>Checks shared by every layer's size arguments.</summary>
internal sealed class SizeChecks(string layer, List<DiagnosticInfo> diagnostics)
{
    /// <summary>Reports AFT0101 on the argument when it was written and is not positive.</summary>
    public void Positive(Argument<int>? argument, string name, string meaning)
    {
        if (argument is { Value: <= 0 } bad)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPositive, bad.Location, layer, name, bad.Value, meaning));
    }
}
