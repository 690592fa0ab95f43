using System.Collections.Immutable;
using AftDsl.Generators.Model;
using Microsoft.CodeAnalysis;

namespace AftDsl.Generators.Diagnostics;

/// <summary>
/// A diagnostic waiting to be reported. It travels only through the diagnostics output, never into
/// the model the emitter sees; it keeps the real source location so that <c>#pragma warning
/// disable</c> and the IDE's squiggles work.
/// </summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, Location? Location, EquatableArray<string> Arguments)
{
    /// <summary>Values for the code fix (keys in <see cref="FixProperties"/>), reported as <c>Diagnostic.Properties</c>.</summary>
    public EquatableArray<DiagnosticProperty> Properties { get; init; }

    /// <summary>
    /// Other places the mistake involves (the mixer's own Dim when a model disagrees with it, the stage that fixed a
    /// width): the IDE shows them beside the primary location. Only locations in source are kept.
    /// </summary>
    public IReadOnlyList<Location> AdditionalLocations { get; init; } = [];

    /// <summary>This diagnostic, also pointing at <paramref name="locations"/> (nulls and locations outside source are dropped).</summary>
    public DiagnosticInfo Also(params Location?[] locations) =>
        this with { AdditionalLocations = [.. AdditionalLocations, .. locations.Where(l => l is { IsInSource: true }).Select(l => l!)] };

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params object[] arguments) =>
        new(descriptor, location, arguments.Select(Invariant).ToEquatableArray());

    /// <summary>This diagnostic carrying <paramref name="values"/> for its code fix.</summary>
    public DiagnosticInfo WithProperties(params (string Key, object Value)[] values) =>
        this with { Properties = values.Select(v => new DiagnosticProperty(v.Key, Invariant(v.Value))).ToEquatableArray() };

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, AdditionalLocations,
        Properties.ToImmutableDictionary(p => p.Key, p => (string?)p.Value), Arguments.Cast<object>().ToArray());

    static string Invariant(object value) => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
}

/// <summary>One value a diagnostic carries for its code fix.</summary>
internal readonly record struct DiagnosticProperty(string Key, string Value);
