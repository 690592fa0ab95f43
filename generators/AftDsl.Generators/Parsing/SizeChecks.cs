using System.Globalization;
using AftDsl.Generators.Diagnostics;

namespace AftDsl.Generators.Parsing;

/// <summary>Checks of the size arguments shared by the layers, each reported on the argument at fault.</summary>
internal sealed class SizeChecks(string layer, List<DiagnosticInfo> diagnostics)
{
    /// <summary>AFT0101 on the argument when it was written and is not positive.</summary>
    public void Positive(Argument<int>? argument, string name, string meaning)
    {
        if (argument is { Value: <= 0 } bad)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.NotPositive, bad.Location, layer, name, bad.Value, meaning));
    }

    /// <summary>AFT0102 on a written FactorRank above maxLength (the default, min(128, maxLength), always fits).</summary>
    public void FactorRankWithinMaxLength(Argument<int>? rank, Argument<int> maxLength)
    {
        if (rank is not { } written || maxLength.Value <= 0 || written.Value <= 0 || written.Value <= maxLength.Value)
            return;
        diagnostics.Add(DiagnosticInfo.Create(Descriptors.FactorRankAboveMaxLength, written.Location, layer,
            written.Value.ToString(CultureInfo.InvariantCulture), maxLength.Value).WithProperties((FixProperties.MaxLength, maxLength.Value)));
    }

    /// <summary>AFT0103: the window of AFT-local must fit within maxLength.</summary>
    public void WindowWithinMaxLength(Argument<int> window, Argument<int> maxLength)
    {
        if (maxLength.Value > 0 && window.Value > maxLength.Value)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.WindowAboveMaxLength, window.Location, layer, window.Value, maxLength.Value));
    }

    /// <summary>
    /// The divisors of <paramref name="n"/> (positive), ascending, found in pairs up to √n: about 46,000 steps for
    /// int.MaxValue where counting up to n would take seconds.
    /// </summary>
    public static IReadOnlyList<int> Divisors(int n)
    {
        var low = new List<int>();
        var high = new List<int>();
        for (var d = 1; (long)d * d <= n; d++)
        {
            if (n % d != 0) continue;
            low.Add(d);
            if (d != n / d) high.Add(n / d);
        }
        high.Reverse();
        return [.. low, .. high];
    }

    /// <summary>AFT0201, on the heads argument, with the valid head counts and the nearest valid widths.</summary>
    public void HeadsDivideDim(Argument<int> heads, Argument<int> dim)
    {
        var (h, d) = (heads.Value, dim.Value);
        if (d % h == 0)
            return;
        var divisors = Divisors(d).Select(x => x.ToString(CultureInfo.InvariantCulture));
        // long: the next multiple of h above a width near int.MaxValue does not fit an int, and is not offered.
        var below = (long)d / h * h;
        var above = below + h;
        var nearest = below == 0 ? h.ToString(CultureInfo.InvariantCulture)
            : above > int.MaxValue ? below.ToString(CultureInfo.InvariantCulture) : $"{below}, {above}";
        var quotient = ((double)d / h).ToString("0.###", CultureInfo.InvariantCulture);
        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HeadsDoNotDivideDim, heads.Location, layer, h, d, quotient,
            string.Join(", ", divisors), nearest).WithProperties((FixProperties.Heads, h), (FixProperties.Dim, d)));
    }
}
