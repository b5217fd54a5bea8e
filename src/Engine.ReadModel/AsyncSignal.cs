namespace Engine.ReadModel;

/// <summary>
/// "Something changed" for async waiters: <see cref="WaitAsync"/> returns a task that completes at the next
/// <see cref="Set"/>. Waiters re-check their condition after it completes, so a missed wake-up is impossible
/// as long as they read the task before checking the condition.
/// </summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync() => Volatile.Read(ref _next).Task;

    public void Set()
    {
        // Swap first, then complete: a waiter that reads the new task after this will wait for the next Set.
        var previous = Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }
}
