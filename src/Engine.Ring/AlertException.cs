namespace Engine.Ring;

/// <summary>
/// Thrown out of a wait when its <see cref="SequenceBarrier"/> has been alerted, which means "stop
/// waiting, the processor is shutting down". It is control flow for shutdown only, so one pre-allocated
/// instance (<see cref="Instance"/>) is thrown every time: halting never allocates.
/// </summary>
public sealed class AlertException : Exception
{
    /// <summary>The single instance thrown by <see cref="SequenceBarrier.CheckAlert"/>.</summary>
    public static readonly AlertException Instance = new();

    private AlertException()
        : base("The sequence barrier was alerted (shutdown).")
    {
    }
}
