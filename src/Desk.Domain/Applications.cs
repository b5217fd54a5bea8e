namespace Desk.Domain;

public enum ApplicationKind { NewLimit, LimitChange, TemporaryLimit, PaymentTerms }

public enum ApplicationStatus { InApproval, Returned, Approved, Rejected }

/// <summary>Where the engine write-back of an approved application stands. Pending is retried until Done; Declined (the engine refused, e.g. the account is closed) waits for a person.</summary>
public enum WriteBackState { None, Pending, Done, Declined }

public enum StepMode { AnyOf, AllOf }

public enum StepStatus { Waiting, Active, Done }

public enum DecisionAction { Approve, Reject, Return }

public enum NoticeKind { Reminder, Escalation, Cc }

public sealed class CreditApplication
{
    public long Id { get; set; }
    public long CustomerId { get; set; }
    public string AccountId { get; set; } = "";
    public string Currency { get; set; } = "CNY";
    public ApplicationKind Kind { get; set; }
    /// <summary>NewLimit/LimitChange: the requested limit; TemporaryLimit: the extra credit. Minor units.</summary>
    public long AmountMinor { get; set; }
    public DateTimeOffset? TemporaryExpiresAt { get; set; }
    public int? TermsDays { get; set; }
    public string Reason { get; set; } = "";
    public ApplicationStatus Status { get; set; }
    public string SubmittedBy { get; set; } = "";
    public DateTimeOffset SubmittedAt { get; set; }
    public string RouteName { get; set; } = "";
    /// <summary>Recipients copied on the decision (role:/title:/user: specs), comma-separated.</summary>
    public string Cc { get; set; } = "";
    public int CurrentStepIndex { get; set; }

    // What the approvers saw: score, grade and suggestion at submission, and the limit then.
    public int? Score { get; set; }
    public string? Grade { get; set; }
    public int? ScoringModelVersion { get; set; }
    public long? SuggestedLimitMinor { get; set; }
    public int? SuggestedTermsDays { get; set; }
    public long CurrentLimitMinor { get; set; }

    public WriteBackState WriteBack { get; set; }
    public string? EngineRequestId { get; set; }
    public int WriteBackAttempts { get; set; }
    public string? WriteBackLastError { get; set; }
    public DateTimeOffset? WriteBackNextAttemptAt { get; set; }
    public string? EngineStatus { get; set; }
    public long? EngineSequence { get; set; }
    public bool? EngineReplayed { get; set; }
    public DateTimeOffset? WrittenBackAt { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }

    public List<ApprovalStep> Steps { get; set; } = [];
    public List<ApprovalDecision> Decisions { get; set; } = [];
}

public sealed class ApprovalStep
{
    public long Id { get; set; }
    public long ApplicationId { get; set; }
    public int Index { get; set; }
    public string Name { get; set; } = "";
    /// <summary>Comma-separated approver specs: role:finance, title:ceo, user:alice.</summary>
    public string Approvers { get; set; } = "";
    public StepMode Mode { get; set; }
    public StepStatus Status { get; set; }
    public DateTimeOffset? ActivatedAt { get; set; }
    public DateTimeOffset? ReminderAt { get; set; }
    public DateTimeOffset? DueAt { get; set; }
    public DateTimeOffset? RemindedAt { get; set; }
    public DateTimeOffset? EscalatedAt { get; set; }
    public string EscalateTo { get; set; } = "role:manager";
    public DateTimeOffset? CompletedAt { get; set; }

    public IReadOnlyList<string> ApproverList => Approvers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class ApprovalDecision
{
    public long Id { get; set; }
    public long ApplicationId { get; set; }
    public int StepIndex { get; set; }
    public string Actor { get; set; } = "";
    public DecisionAction Action { get; set; }
    public string Opinion { get; set; } = "";
    public DateTimeOffset At { get; set; }
    /// <summary>What the approver saw when deciding (amount, score, grade, suggestion, current limit), JSON.</summary>
    public string Seen { get; set; } = "";
}

/// <summary>A reminder, an escalation or a CC, recorded when the deadline job (or a decision) raised it.</summary>
public sealed class ApprovalNotice
{
    public long Id { get; set; }
    public long ApplicationId { get; set; }
    public int StepIndex { get; set; }
    public NoticeKind Kind { get; set; }
    public string Recipients { get; set; } = "";
    public DateTimeOffset At { get; set; }
    public string Text { get; set; } = "";
}
