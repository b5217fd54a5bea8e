using System.Diagnostics;

namespace Engine.Ring;

/// <summary>
/// Runs one consumer stage on its own dedicated thread: waits on its barrier, hands every available slot
/// (at most <see cref="BatchSizeMax"/> at a time) to the handler by reference, flags the last slot of each
/// batch with <c>endOfBatch</c>, then advances its <see cref="Sequence"/> once per batch so downstream
/// stages and gated producers see the whole batch at once.
/// </summary>
/// <remarks>
/// <para><b>Fail-stop.</b> If the handler throws, the processor does not skip the slot: it records the
/// exception in <see cref="Fault"/>, invokes the fault callback, calls <see cref="IBatchEventHandler{T}.OnShutdown"/>
/// and exits, leaving its sequence at the end of the last batch that completed. Every stage behind it,
/// and eventually every producer, stalls: in a money engine a bug must stop the line, not be skipped.
/// An exception thrown by the fault callback itself is not caught and terminates the process.</para>
/// <para><b>Thread.</b> The thread is a background thread, so a forgotten processor cannot keep the process
/// alive after the host exits; the host must <see cref="Halt"/> and <see cref="Join"/> on orderly shutdown.
/// Abrupt exit is safe for the engine by design, since nothing is answered before the journal made it
/// durable.</para>
/// <para><b>Halt.</b> <see cref="Halt"/> does not drain: the processor stops after the batch it is in, even
/// if more slots are available. To drain first, wait until <see cref="Sequence"/> reaches the ring's
/// cursor (with producers stopped), then halt.</para>
/// </remarks>
/// <typeparam name="T">The ring's slot type.</typeparam>
public sealed class BatchEventProcessor<T>
    where T : struct
{
    private readonly RingBuffer<T> _ring;
    private readonly SequenceBarrier _barrier;
    private readonly IBatchEventHandler<T> _handler;
    private readonly Action<Exception>? _onFault;
    private readonly IWaitStrategy _waitStrategy;
    private readonly Sequence _sequence = new();

    // Set by the processor thread once it runs (after OnStart), so Start can return only then. Never
    // disposed: it never creates a kernel handle because nobody reads its WaitHandle.
    private readonly ManualResetEventSlim _threadStarted = new(initialState: false);

    // 0 until Start is first called; Interlocked.Exchange prevents two racing Start calls from both
    // creating a thread for the same stage (two threads would process every slot twice).
    private int _startRequested;

    // 1 while the processor thread runs; written by that thread, read by any thread.
    private int _running;

    private Thread? _thread;
    private Exception? _fault;

    /// <summary>Creates a processor; nothing runs until <see cref="Start"/>.</summary>
    /// <param name="ring">The ring whose slots the handler processes.</param>
    /// <param name="barrier">This stage's own barrier (from <see cref="RingBuffer{T}.NewBarrier"/>), not shared with another processor.</param>
    /// <param name="handler">The stage logic.</param>
    /// <param name="maxBatchSize">The most slots handed over between two end-of-batch signals (and two sequence
    /// updates). Also bounded by the ring size. Bound it when end-of-batch does something whose cost or latency
    /// grows with the batch, such as the journal's commit.</param>
    /// <param name="onFault">Called on the processor thread, once, if the handler throws.</param>
    public BatchEventProcessor(
        RingBuffer<T> ring,
        SequenceBarrier barrier,
        IBatchEventHandler<T> handler,
        int maxBatchSize = int.MaxValue,
        Action<Exception>? onFault = null)
    {
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(barrier);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        _ring = ring;
        _barrier = barrier;
        _handler = handler;
        BatchSizeMax = maxBatchSize;
        _onFault = onFault;
        _waitStrategy = ring.WaitStrategy;
    }

    /// <summary>
    /// The highest sequence this stage has fully processed. Downstream stages depend on it
    /// (<see cref="RingBuffer{T}.NewBarrier"/>); the last stage's gates producers
    /// (<see cref="RingBuffer{T}.AddGatingSequences"/>).
    /// </summary>
    public Sequence Sequence => _sequence;

    /// <summary>The most slots in one batch.</summary>
    public int BatchSizeMax { get; }

    /// <summary>Whether the processor thread is running.</summary>
    // Volatile.Read prevents a caller polling this property from seeing a stale value forever.
    public bool IsRunning => Volatile.Read(ref _running) == 1;

    /// <summary>The exception the handler threw, if it did; the processor has stopped.</summary>
    // Volatile.Read pairs with the release write in RecordFault, so a reader sees a fully built exception.
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Starts the dedicated thread named <paramref name="threadName"/> and returns once it is running and
    /// <see cref="IBatchEventHandler{T}.OnStart"/> has returned.
    /// </summary>
    /// <exception cref="InvalidOperationException">The processor was already started.</exception>
    public void Start(string threadName)
    {
        ArgumentNullException.ThrowIfNull(threadName);
        // Interlocked.Exchange: of two racing Start calls exactly one sees 0 (see _startRequested).
        if (Interlocked.Exchange(ref _startRequested, 1) != 0)
        {
            throw new InvalidOperationException("the processor was already started; a processor runs once");
        }

        var thread = new Thread(Run) { Name = threadName, IsBackground = true };
        // Volatile.Write (release) so a Join on another thread sees the fully constructed thread object.
        Volatile.Write(ref _thread, thread);
        thread.Start();
        _threadStarted.Wait();
    }

    /// <summary>
    /// Asks the processor to stop: it finishes the batch it is in (or wakes from its wait), calls
    /// <see cref="IBatchEventHandler{T}.OnShutdown"/> and exits. Returns at once; use <see cref="Join"/> to wait.
    /// A processor halted before it starts stops as soon as it starts.
    /// </summary>
    public void Halt() => _barrier.Alert();

    /// <summary>Waits up to <paramref name="timeout"/> for the processor thread to exit.</summary>
    /// <returns><see langword="true"/> if the thread has exited (or was never started).</returns>
    public bool Join(TimeSpan timeout)
    {
        // Volatile.Read pairs with the release in Start (see _thread).
        Thread? thread = Volatile.Read(ref _thread);
        return thread is null || thread.Join(timeout);
    }

    private void Run()
    {
        // Volatile.Write: callers of IsRunning on other threads see the change promptly.
        Volatile.Write(ref _running, 1);
        try
        {
            try
            {
                _handler.OnStart();
            }
            finally
            {
                _threadStarted.Set();
            }

            ProcessBatchesUntilHalted();
        }
        catch (Exception exception)
        {
            RecordFault(exception);
            _onFault?.Invoke(exception);
        }
        finally
        {
            try
            {
                _handler.OnShutdown();
            }
            catch (Exception exception)
            {
                // Report a shutdown failure unless an earlier fault already was: the first fault is the cause.
                if (Fault is null)
                {
                    RecordFault(exception);
                    _onFault?.Invoke(exception);
                }
            }

            // Volatile.Write (release): a caller that sees IsRunning false also sees Fault and every
            // write the handler made, the same guarantee Join gives.
            Volatile.Write(ref _running, 0);
        }
    }

    private void ProcessBatchesUntilHalted()
    {
        long nextSequence = _sequence.Value + 1;
        while (true)
        {
            long availableSequence;
            try
            {
                availableSequence = _barrier.WaitFor(nextSequence);
            }
            catch (AlertException)
            {
                // The barrier is alerted only to stop this processor (Halt): leave the loop.
                return;
            }

            Debug.Assert(availableSequence >= nextSequence, "the barrier returns only available sequences");
            // Subtract in this order so a maxBatchSize of int.MaxValue cannot overflow.
            long endSequence = availableSequence - nextSequence >= BatchSizeMax
                ? nextSequence + BatchSizeMax - 1
                : availableSequence;
            _handler.OnBatchStart(endSequence - nextSequence + 1);
            for (long sequence = nextSequence; sequence <= endSequence; sequence++)
            {
                _handler.OnEvent(ref _ring[sequence], sequence, sequence == endSequence);
            }

            // Sequence.SetValue is a release: a downstream stage or a producer that sees endSequence also
            // sees every write the handler made into these slots, and never gets the slots early.
            _sequence.SetValue(endSequence);
            _waitStrategy.SignalAllWhenBlocking();
            nextSequence = endSequence + 1;
        }
    }

    private void RecordFault(Exception exception)
    {
        // Volatile.Write (release): a thread that reads Fault sees the exception's contents.
        Volatile.Write(ref _fault, exception);
    }
}
