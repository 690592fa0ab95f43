using AftDsl.Generators.Diagnostics;

namespace AftDsl.Generators.Model;

/// <summary>
/// What parsing one attributed class yields: a spec when it is valid, its diagnostics, and, when it is in error but
/// can still receive a generated part, the skeleton that keeps the user's other code compiling.
/// </summary>
internal sealed record ParseResult<TSpec>(TSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics)
    where TSpec : class
{
    public SkeletonSpec? Skeleton { get; init; }
}

/// <summary>What the generator writes for one declaration: the full part from a valid spec, or the skeleton.</summary>
internal sealed record GeneratedPart<TSpec>(TSpec? Spec, SkeletonSpec? Skeleton)
    where TSpec : class;
