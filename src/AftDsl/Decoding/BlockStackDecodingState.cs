namespace AftDsl.Decoding;

/// <summary>The decoding states of a <see cref="Modules.BlockStack"/>'s mixers, one per block, in order.</summary>
public sealed class BlockStackDecodingState : DecodingState
{
    readonly DecodingState[] mixers;

    /// <param name="owner">How errors name the stack.</param>
    /// <param name="batch">Sequences decoded side by side.</param>
    /// <param name="mixers">
    /// Each block's mixer state, which the stack then owns. A lazy sequence is created here; when one of its states
    /// fails, the ones created before it are disposed and the exception goes on.
    /// </param>
    public BlockStackDecodingState(string owner, long batch, IEnumerable<DecodingState> mixers) : base(owner, batch) =>
        this.mixers = CreateAll(mixers);

    /// <summary>Each block's mixer state.</summary>
    public IReadOnlyList<DecodingState> Mixers => mixers;

    /// <inheritdoc/>
    public override long ByteCount => mixers.Sum(m => m.ByteCount);

    /// <inheritdoc/>
    protected override void Clear()
    {
        foreach (var mixer in mixers)
            mixer.Reset();
    }

    /// <inheritdoc/>
    protected override void Release()
    {
        foreach (var mixer in mixers)
            mixer.Dispose();
    }
}
