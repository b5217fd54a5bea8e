using Engine.Domain;

namespace Engine.ReadModel;

/// <summary>A set of event types for ListEvents, as a bit mask: the default (empty) set means every type.</summary>
public readonly record struct EventTypeFilter(ulong Mask)
{
    public static EventTypeFilter All => default;

    /// <summary>The set of <paramref name="types"/>; empty means every type. Throws for a type outside the format's range.</summary>
    public static EventTypeFilter Of(IEnumerable<EventType> types)
    {
        ulong mask = 0;
        foreach (EventType type in types)
        {
            if (type is EventType.None || (int)type >= 64) throw new ArgumentOutOfRangeException(nameof(types), type, "not an event type");
            mask |= 1UL << (int)type;
        }
        return new EventTypeFilter(mask);
    }

    public bool Includes(EventType type) => Mask == 0 || (int)type < 64 && (Mask & (1UL << (int)type)) != 0;
}
