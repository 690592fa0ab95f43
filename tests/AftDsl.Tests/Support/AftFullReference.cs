namespace AftDsl.Tests.Support;

/// <summary>
/// AFT-full written directly from the paper's Eq. 2, one term at a time, in double precision:
/// Y[b,t,c] = σ(Q[b,t,c]) · Σ_t' exp(K[b,t',c] + w[t,t']) V[b,t',c] / Σ_t' exp(K[b,t',c] + w[t,t']).
/// Arrays are row-major: q, k, v and the result are [B, T, H]; w is [T, T].
/// </summary>
public static class AftFullReference
{
    /// <summary>The equation as printed, without any shift: for inputs of moderate size.</summary>
    public static double[] ExplicitSum(double[] q, double[] k, double[] v, double[] w, int batch, int length, int hidden, bool causal) =>
        Sum(q, k, v, w, batch, length, hidden, causal, shifted: false);

    /// <summary>
    /// The same sums, each (b, t, c) shifted by the largest of its own exponents K[b,t',c] + w[t,t']:
    /// the ratio is unchanged, and inputs of any size stay representable.
    /// </summary>
    public static double[] ExplicitSumShifted(double[] q, double[] k, double[] v, double[] w, int batch, int length, int hidden, bool causal) =>
        Sum(q, k, v, w, batch, length, hidden, causal, shifted: true);

    static double[] Sum(double[] q, double[] k, double[] v, double[] w, int batch, int length, int hidden, bool causal, bool shifted)
    {
        var y = new double[batch * length * hidden];
        for (var b = 0; b < batch; b++)
        for (var t = 0; t < length; t++)
        for (var c = 0; c < hidden; c++)
        {
            var last = causal ? t : length - 1;
            var shift = double.NegativeInfinity;
            for (var s = 0; s <= last; s++)
                shift = Math.Max(shift, k[(b * length + s) * hidden + c] + w[t * length + s]);
            if (!shifted) shift = 0;

            double numerator = 0, denominator = 0;
            for (var s = 0; s <= last; s++)
            {
                var weight = Math.Exp(k[(b * length + s) * hidden + c] + w[t * length + s] - shift);
                numerator += weight * v[(b * length + s) * hidden + c];
                denominator += weight;
            }
            var index = (b * length + t) * hidden + c;
            y[index] = Sigmoid(q[index]) * numerator / denominator;
        }
        return y;
    }

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
