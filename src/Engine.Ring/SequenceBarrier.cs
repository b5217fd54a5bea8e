using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Engine.Ring;

/// <summary>
/// What one consumer stage waits on: the ring's published slots when it is the first stage, or the
/// sequences of the stages it depends on (so it never overtakes them). It also carries the alert flag
/// used to stop the stage. Create one per processor with <see cref="RingBuffer{T}.NewBarrier"/>.
/// </summary>
public sealed class SequenceBarrier
{
    private readonly MultiProducerSequencer _sequencer;
    private readonly IWaitStrategy _waitStrategy;
    private readonly ISequence _dependentSequence;
    private readonly bool _hasDependents;

    // Set by Alert from a controlling thread and read by the waiting processor thread.
    private bool _alerted;

    internal SequenceBarrier(MultiProducerSequencer sequencer, IWaitStrategy waitStrategy, Sequence[] dependents)
    {
        _sequencer = sequencer;
        _waitStrategy = waitStrategy;
        _hasDependents = dependents.Length > 0;
        _dependentSequence = dependents.Length switch
        {
            0 => sequencer.CursorSequence,
            1 => dependents[0],
            _ => new SequenceGroup(dependents),
        };
    }

    /// <summary>
    /// The value this barrier waits on: the ring's cursor (highest claimed) for a first stage, or the
    /// minimum of the upstream stages' sequences.
    /// </summary>
    public long Cursor => _dependentSequence.Value;

    /// <summary>Whether <see cref="Alert"/> has been called (and not cleared).</summary>
    // Volatile.Read prevents the JIT from hoisting the flag out of a wait loop, which would make the
    // waiting thread miss the shutdown request forever.
    public bool IsAlerted => Volatile.Read(ref _alerted);

    /// <summary>
    /// Waits until <paramref name="sequence"/> is published and visible past every upstream stage, and
    /// returns the highest sequence that is: at least <paramref name="sequence"/>, and for a first stage
    /// the end of the contiguous run of published slots (a later slot published before an earlier one
    /// is not handed out until the gap is filled).
    /// </summary>
    /// <exception cref="AlertException">The barrier is or becomes alerted.</exception>
    public long WaitFor(long sequence)
    {
        CheckAlert();
        long availableSequence = _waitStrategy.WaitFor(sequence, _sequencer.CursorSequence, _dependentSequence, this);
        Debug.Assert(availableSequence >= sequence, "wait strategies only return once the sequence is reached");

        if (_hasDependents)
        {
            // Upstream stages only ever advance over slots they have processed, and they only process
            // published slots, so everything up to their minimum is already published: no scan needed.
            return availableSequence;
        }

        // Waiting on the cursor tells us which slots are claimed, not which are published: several
        // producers claim first and publish later, in any order.
        long highestPublished = _sequencer.GetHighestPublishedSequence(sequence, availableSequence);
        if (highestPublished >= sequence)
        {
            return highestPublished;
        }

        return WaitForPublication(sequence, availableSequence);
    }

    /// <summary>
    /// Stops waiters: the current or next <see cref="WaitFor"/> throws <see cref="AlertException"/>, and
    /// a consumer blocked in the wait strategy is woken to see it.
    /// </summary>
    public void Alert()
    {
        // Volatile.Write (release) makes the flag visible to the waiting thread; the wait strategy's
        // signal then wakes it if it is asleep (the signal orders this write before its own checks).
        Volatile.Write(ref _alerted, true);
        _waitStrategy.SignalAllWhenBlocking();
    }

    /// <summary>Clears the alert so the barrier can be waited on again.</summary>
    public void ClearAlert()
    {
        // Volatile.Write so a processor restarted on another thread sees the cleared flag.
        Volatile.Write(ref _alerted, false);
    }

    /// <summary>Throws <see cref="AlertException"/> if the barrier is alerted.</summary>
    /// <exception cref="AlertException">The barrier is alerted.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void CheckAlert()
    {
        if (IsAlerted)
        {
            ThrowAlert();
        }
    }

    /// <summary>
    /// The slot at <paramref name="sequence"/> is claimed but its producer has not published it yet.
    /// That window is a few instructions unless the producer is descheduled, so spin with back-off
    /// (SpinWait escalates to yielding and short sleeps, bounding the CPU burnt) until it is published.
    /// </summary>
    private long WaitForPublication(long sequence, long availableSequence)
    {
        SpinWait spinWait = default;
        while (true)
        {
            CheckAlert();
            spinWait.SpinOnce();
            long highestPublished = _sequencer.GetHighestPublishedSequence(sequence, availableSequence);
            if (highestPublished >= sequence)
            {
                return highestPublished;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAlert() => throw AlertException.Instance;
}
