namespace AftDsl;

/// <summary>
/// The attributes' names, argument names and defaults, in one place. This file is compiled into the runtime library,
/// whose attributes take their defaults from it, and linked into the generator (parsers, analyzer) and the code fixes,
/// which read the attributes by these names. A test walks it by reflection against the attribute types: every name
/// must exist on its attribute, and every argument an attribute takes must be named here.
/// </summary>
/// <remarks>
/// A class per attribute holds its <c>Type</c> (the metadata name), its constructor parameters (camelCase) and its
/// settable properties (PascalCase); names-only base classes mirror what attributes share (<see cref="Mixer"/>: every
/// layer's <c>Dim</c> and <c>Causal</c>). Why constants and not an abstractions assembly the generator references:
/// see docs/repository.md.
/// </remarks>
internal static class AttributeNames
{
    const string Prefix = "AftDsl.";

    /// <summary>What every layer attribute takes (<c>AftMixerAttribute</c>).</summary>
    internal abstract class Mixer
    {
        public const string Base = Prefix + "AftMixerAttribute";
        public const string Dim = "Dim";
        public const string Causal = "Causal";
    }

    /// <summary>What the layers with Q, K and V projections share (<c>[AftFull]</c>, <c>[AftLocal]</c>, <c>[AftSimple]</c>).</summary>
    internal abstract class Projected : Mixer
    {
        public const string HiddenDim = "HiddenDim";
    }

    /// <summary>What <c>[AftFull]</c> and <c>[AftLocal]</c> share: the factorised position bias over maxLength positions.</summary>
    internal abstract class PositionBias : Projected
    {
        public const string MaxLength = "maxLength";
        public const string FactorRank = "FactorRank";

        /// <summary>The paper's rank d' = 128, used when FactorRank is not written (capped at maxLength).</summary>
        public const int DefaultFactorRank = 128;
    }

    internal abstract class AftFull : PositionBias
    {
        public const string Type = Prefix + "AftFullAttribute";
    }

    internal abstract class AftLocal : PositionBias
    {
        public const string Type = Prefix + "AftLocalAttribute";
        public const string Window = "window";
    }

    internal abstract class AftSimple : Projected
    {
        public const string Type = Prefix + "AftSimpleAttribute";
    }

    internal abstract class AftConv : Mixer
    {
        public const string Type = Prefix + "AftConvAttribute";
        public const string Heads = "heads";
        public const string Window = "window";
        public const string Layout = "Layout";
        public const string GridHeight = "GridHeight";
        public const string GridWidth = "GridWidth";
        public const string Reparameterise = "Reparameterise";
        public const string Connectivity = "Connectivity";
    }

    internal abstract class MultiHeadAttention : Mixer
    {
        public const string Type = Prefix + "MultiHeadAttentionAttribute";
        public const string Heads = "heads";
    }

    internal abstract class AftModel
    {
        public const string Type = Prefix + "AftModelAttribute";
        public const string Causal = "Causal";
        public const string Decoding = "Decoding";
    }

    internal abstract class TokenInput
    {
        public const string Type = Prefix + "TokenInputAttribute";
        public const string Vocab = "vocab";
        public const string MaxLength = "maxLength";
    }

    internal abstract class ImageInput
    {
        public const string Type = Prefix + "ImageInputAttribute";
        public const string Channels = "channels";
        public const string Height = "Height";
        public const string Width = "Width";
    }

    /// <summary>The base of every stage attribute: a property carrying one is a stage of its model.</summary>
    public const string Stage = Prefix + "StageAttribute";

    internal abstract class Embedding
    {
        public const string Type = Prefix + "EmbeddingAttribute";
        public const string Dim = "dim";
    }

    internal abstract class PatchEmbedding
    {
        public const string Type = Prefix + "PatchEmbeddingAttribute";
        public const string Patch = "patch";
        public const string Dim = "dim";
    }

    internal abstract class PositionEmbedding
    {
        public const string Type = Prefix + "PositionEmbeddingAttribute";
    }

    internal abstract class Blocks
    {
        public const string Type = Prefix + "BlocksAttribute";
        public const string Depth = "depth";
        public const string Mixer = "mixer";
        public const string Ffn = "Ffn";
        public const string FfnWidth = "FfnWidth";

        /// <summary>The FFN's hidden width as a multiple of the model width, when Ffn is not written.</summary>
        public const int DefaultFfn = 4;
    }

    internal abstract class FinalNorm
    {
        public const string Type = Prefix + "FinalNormAttribute";
    }

    internal abstract class Logits
    {
        public const string Type = Prefix + "LogitsAttribute";
        public const string Classes = "Classes";
    }

    internal abstract class ClassifierHead
    {
        public const string Type = Prefix + "ClassifierHeadAttribute";
        public const string Classes = "classes";
    }
}
