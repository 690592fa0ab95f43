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
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params object[] arguments) =>
        new(descriptor, location, arguments.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToEquatableArray());

    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Arguments.Cast<object>().ToArray());
}
