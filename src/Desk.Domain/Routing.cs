namespace Desk.Domain;

/// <summary>What routing looks at. Amount is the requested limit (or temporary amount; the current limit for terms).</summary>
public sealed record RoutingInput(long AmountMinor, string? Grade, string? Risk, CustomerType CustomerType, ApplicationKind Kind);

/// <summary>A condition on the routing input; every set field must hold.</summary>
public sealed class RouteCondition
{
    public long? AmountAboveMinor { get; set; }
    public long? AmountAtMostMinor { get; set; }
    public List<string>? Grades { get; set; }
    public List<string>? Risks { get; set; }
    public List<CustomerType>? CustomerTypes { get; set; }
    public List<ApplicationKind>? Kinds { get; set; }

    public bool Matches(RoutingInput input) =>
        (AmountAboveMinor is null || input.AmountMinor > AmountAboveMinor)
        && (AmountAtMostMinor is null || input.AmountMinor <= AmountAtMostMinor)
        && (Grades is null || Grades.Count == 0 || (input.Grade is not null && Grades.Contains(input.Grade)))
        && (Risks is null || Risks.Count == 0 || (input.Risk is not null && Risks.Contains(input.Risk)))
        && (CustomerTypes is null || CustomerTypes.Count == 0 || CustomerTypes.Contains(input.CustomerType))
        && (Kinds is null || Kinds.Count == 0 || Kinds.Contains(input.Kind));
}

public sealed class StepDefinition
{
    public string Name { get; set; } = "";
    /// <summary>role:finance, title:finance-director or user:alice.</summary>
    public List<string> Approvers { get; set; } = [];
    public StepMode Mode { get; set; } = StepMode.AnyOf;
    /// <summary>The step applies only when this holds (null: always).</summary>
    public RouteCondition? When { get; set; }
    public double DeadlineWorkingHours { get; set; } = 24;
    public double ReminderBeforeWorkingHours { get; set; } = 4;
    public string EscalateTo { get; set; } = "role:manager";
}

public sealed class RouteDefinition
{
    public string Name { get; set; } = "";
    public RouteCondition Match { get; set; } = new();
    public List<StepDefinition> Steps { get; set; } = [];
    public List<string> Cc { get; set; } = [];
}

/// <summary>Approval routes as data: the first route whose Match holds applies; its steps whose When holds run in order.</summary>
public sealed class RoutePolicy
{
    public List<RouteDefinition> Routes { get; set; } = [];

    /// <summary>docs/DESK.md's default: finance review, then ≤ 50,000 → sales director, > 50,000 → finance director, > 500,000 adds the CEO.</summary>
    public static RoutePolicy Default()
    {
        const long fiftyThousand = 50_000 * Money.MinorPerMajor;
        const long fiveHundredThousand = 500_000 * Money.MinorPerMajor;
        return new RoutePolicy
        {
            Routes =
            [
                new RouteDefinition
                {
                    Name = "default",
                    Cc = ["role:risk"],
                    Steps =
                    [
                        new StepDefinition { Name = "finance-review", Approvers = ["role:finance"] },
                        new StepDefinition { Name = "sales-director", Approvers = ["title:sales-director"], When = new RouteCondition { AmountAtMostMinor = fiftyThousand } },
                        new StepDefinition { Name = "finance-director", Approvers = ["title:finance-director"], When = new RouteCondition { AmountAboveMinor = fiftyThousand } },
                        new StepDefinition { Name = "ceo", Approvers = ["title:ceo"], When = new RouteCondition { AmountAboveMinor = fiveHundredThousand } },
                    ],
                },
            ],
        };
    }

    /// <summary>Problems with the policy, each naming where; empty when it can be used.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Routes.Count == 0) problems.Add("routes: at least one route is required");
        for (int r = 0; r < Routes.Count; r++)
        {
            RouteDefinition route = Routes[r];
            if (string.IsNullOrWhiteSpace(route.Name)) problems.Add($"routes[{r}].name: is required");
            if (route.Steps.Count == 0) problems.Add($"routes[{r}].steps: at least one step is required");
            for (int s = 0; s < route.Steps.Count; s++)
            {
                StepDefinition step = route.Steps[s];
                string at = $"routes[{r}].steps[{s}]";
                if (string.IsNullOrWhiteSpace(step.Name)) problems.Add($"{at}.name: is required");
                if (step.Approvers.Count == 0) problems.Add($"{at}.approvers: at least one approver is required");
                foreach (string a in step.Approvers) if (!ApproverSpec.TryParse(a, out _)) problems.Add($"{at}.approvers: '{a}' is not role:NAME, title:NAME or user:NAME");
                if (!ApproverSpec.TryParse(step.EscalateTo, out _)) problems.Add($"{at}.escalateTo: '{step.EscalateTo}' is not role:NAME, title:NAME or user:NAME");
                if (step.DeadlineWorkingHours is <= 0 or > 1000) problems.Add($"{at}.deadlineWorkingHours: must be in (0, 1000]");
                if (step.ReminderBeforeWorkingHours < 0 || step.ReminderBeforeWorkingHours >= step.DeadlineWorkingHours)
                    problems.Add($"{at}.reminderBeforeWorkingHours: must be >= 0 and below the deadline");
            }
        }
        return problems;
    }

    /// <summary>The route and its applicable steps; throws when no route matches (a policy should end with a catch-all).</summary>
    public (RouteDefinition Route, IReadOnlyList<StepDefinition> Steps) Resolve(RoutingInput input)
    {
        RouteDefinition route = Routes.FirstOrDefault(r => r.Match.Matches(input))
            ?? throw new InvalidOperationException("no approval route matches this application; add a catch-all route");
        var steps = route.Steps.Where(s => s.When is null || s.When.Matches(input)).ToList();
        if (steps.Count == 0) throw new InvalidOperationException($"route '{route.Name}' has no step for this application");
        return (route, steps);
    }
}

/// <summary>role:NAME, title:NAME or user:NAME.</summary>
public readonly record struct ApproverSpec(string Kind, string Name)
{
    public static bool TryParse(string text, out ApproverSpec spec)
    {
        spec = default;
        int colon = text.IndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        string kind = text[..colon].Trim().ToLowerInvariant();
        string name = text[(colon + 1)..].Trim();
        if (kind is not ("role" or "title" or "user") || name.Length == 0) return false;
        spec = new ApproverSpec(kind, name);
        return true;
    }

    public bool IsSatisfiedBy(Actor actor) => Kind switch
    {
        "role" => actor.Roles.Contains(Name),
        "title" => actor.Titles.Contains(Name),
        "user" => string.Equals(actor.UserName, Name, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    public override string ToString() => $"{Kind}:{Name}";
}

/// <summary>Who is acting, as the approval rules see them.</summary>
public sealed record Actor(string UserName, IReadOnlyCollection<string> Roles, IReadOnlyCollection<string> Titles);
