namespace AftDsl.Interop;

/// <summary>A file that should hold a PyTorch state dict does not: another format, a whole pickled model, or damage.</summary>
public sealed class StateDictFormatException(string message, Exception? inner = null) : Exception(message, inner);
