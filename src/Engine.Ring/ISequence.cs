namespace Engine.Ring;

/// <summary>
/// A readable 64-bit sequence: either one <see cref="Sequence"/> or a <see cref="SequenceGroup"/>,
/// the minimum over several. Wait strategies wait on this abstraction so that a stage can depend on
/// one upstream stage or on several at once without knowing which.
/// </summary>
public interface ISequence
{
    /// <summary>The current value, read with acquire semantics.</summary>
    long Value { get; }
}
