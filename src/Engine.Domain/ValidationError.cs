namespace Engine.Domain;

/// <summary>A malformed command: which field (its docs/SPEC.md / proto <c>snake_case</c> name) and why. Nothing is journaled for it.</summary>
public readonly record struct ValidationError(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>Thrown by the in-process engine API for a malformed command. Nothing changed.</summary>
public sealed class InvalidCommandException(ValidationError error) : ArgumentException(error.ToString(), error.Field)
{
    public ValidationError Error { get; } = error;
}
