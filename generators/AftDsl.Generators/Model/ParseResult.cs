using AftDsl.Generators.Diagnostics;

namespace AftDsl.Generators.Model;

/// <summary>What parsing one attributed class yields: a spec when it is valid, and its diagnostics.</summary>
internal sealed record ParseResult<TSpec>(TSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics)
    where TSpec : class;
