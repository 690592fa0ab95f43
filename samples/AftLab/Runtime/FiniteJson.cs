using System.Text.Json;
using System.Text.Json.Serialization;

namespace AftLab.Runtime;

/// <summary>
/// JSON for reports whose numbers may not be finite (a held-out metric of a diverged model): NaN and the
/// infinities, which JSON cannot express, are written as <c>null</c> and read back as NaN.
/// </summary>
public static class FiniteJson
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Converters = { new NullForNonFinite() } };

    sealed class NullForNonFinite : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }

        public override bool HandleNull => true;
    }
}
