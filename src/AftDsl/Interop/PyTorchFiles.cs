namespace AftDsl.Interop;

/// <summary>The names an export folder uses, shared with <c>aftdsl_torch.py</c>.</summary>
public static class PyTorchFiles
{
    /// <summary>The state dict, written as <c>torch.save</c> writes one (a zip of pickled tensor records).</summary>
    public const string Weights = "model.pt";

    /// <summary>The architecture the Python side builds the module from.</summary>
    public const string Architecture = "architecture.json";

    /// <summary>The value of <c>format</c> in <see cref="Architecture"/>.</summary>
    public const string FormatName = "aftdsl-pytorch";

    /// <summary>The layout of <see cref="Architecture"/> this build writes; <c>aftdsl_torch.py</c> refuses any other.</summary>
    public const int FormatVersion = 1;
}
