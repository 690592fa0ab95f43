namespace AftDsl.Distributed;

/// <summary>
/// Data-parallel training cannot start or go on: a collective library (libmpi, libnccl) is missing, the launcher's
/// environment is incomplete, or a collective failed or timed out. The message names what was looked for and how to fix it.
/// </summary>
public sealed class DistributedException(string message, Exception? inner = null) : Exception(message, inner);
