using Credit.V1;
using Engine.Domain;
using DomainCommand = Engine.Domain.Command;
using ProtoCommand = Credit.V1.Command;

namespace Engine.Server.Grpc;

/// <summary>
/// Proto requests → domain commands, with every shape check done here, on the caller's thread, before a
/// command can reach the ring: <see cref="CommandValidator"/> plus the checks only the wire format needs
/// (an explicitly negative optional <c>mcc</c>, a missing <c>controls</c>, values that do not fit the
/// domain's narrower types). Field names in errors are the proto <c>snake_case</c> names.
/// </summary>
public static class CommandMapping
{
    public static DomainCommand ToDomain(AuthorizeRequest r) =>
        Checked(DomainCommand.Authorize(r.RequestId, r.AccountId, r.Amount, r.Currency, Optional(r.MerchantId), OptionalMcc(r.HasMcc, r.Mcc), r.ExpiresInSeconds));

    public static DomainCommand ToDomain(IncrementAuthorizationRequest r) =>
        Checked(DomainCommand.IncrementAuthorization(r.RequestId, r.AuthorizationId, r.Amount));

    public static DomainCommand ToDomain(CaptureRequest r) =>
        Checked(DomainCommand.Capture(r.RequestId, r.AuthorizationId, r.Amount, r.Final));

    public static DomainCommand ToDomain(VoidRequest r) =>
        Checked(DomainCommand.Void(r.RequestId, r.AuthorizationId, r.Amount));

    public static DomainCommand ToDomain(ForcePostRequest r) =>
        Checked(DomainCommand.ForcePost(r.RequestId, r.AccountId, r.Amount, Optional(r.MerchantId), OptionalMcc(r.HasMcc, r.Mcc)));

    public static DomainCommand ToDomain(RefundRequest r) =>
        Checked(DomainCommand.Refund(r.RequestId, r.AccountId, r.Amount, Optional(r.AuthorizationId)));

    public static DomainCommand ToDomain(RepayRequest r) =>
        Checked(DomainCommand.Repay(r.RequestId, r.AccountId, r.Amount));

    public static DomainCommand ToDomain(OpenAccountRequest r)
    {
        // The domain stores the percentage in a byte; reject before the cast could wrap.
        if (r.OvercapturePercent is < 0 or > CommandValidator.OvercapturePercentMax)
            throw new InvalidCommandException(new ValidationError("overcapture_percent", $"must be 0..{CommandValidator.OvercapturePercentMax}"));
        DomainCommand command = DomainCommand.OpenAccount(r.RequestId, r.AccountId, r.CustomerId, r.Currency, r.CreditLimit, r.OvercapturePercent);
        if (r.Billing is not null) command.Billing = LifecycleMapping.ToDomain(r.Billing);
        return Checked(command);
    }

    public static DomainCommand ToDomain(ChangeLimitRequest r) =>
        Checked(DomainCommand.ChangeLimit(r.RequestId, r.AccountId, r.CreditLimit));

    public static DomainCommand ToDomain(SetTemporaryLimitRequest r) =>
        Checked(DomainCommand.SetTemporaryLimit(r.RequestId, r.AccountId, r.Amount, r.ExpiresAtUnixMs));

    public static DomainCommand ToDomain(FreezeRequest r) =>
        Checked(DomainCommand.Freeze(r.RequestId, r.AccountId, r.Reason));

    public static DomainCommand ToDomain(UnfreezeRequest r) =>
        Checked(DomainCommand.Unfreeze(r.RequestId, r.AccountId, r.Reason));

    public static DomainCommand ToDomain(CloseAccountRequest r) =>
        Checked(DomainCommand.CloseAccount(r.RequestId, r.AccountId));

    public static DomainCommand ToDomain(SetSpendingControlsRequest r)
    {
        if (r.Controls is null) throw new InvalidCommandException(new ValidationError("controls", "is required"));
        var controls = new Engine.Domain.SpendingControls
        {
            MaxAuthorizationAmountMinor = r.Controls.MaxAuthorizationAmount,
            VelocityMaxCount = r.Controls.VelocityMaxCount,
            VelocityMaxAmountMinor = r.Controls.VelocityMaxAmount,
            VelocityWindowSeconds = r.Controls.VelocityWindowSeconds,
            BlockedMccs = [.. r.Controls.BlockedMccs],
        };
        bool none = controls.MaxAuthorizationAmountMinor == 0 && controls.VelocityMaxCount == 0 && controls.VelocityMaxAmountMinor == 0
            && controls.VelocityWindowSeconds == 0 && controls.BlockedMccs.Length == 0;
        return Checked(DomainCommand.SetSpendingControls(r.RequestId, r.AccountId, none ? Engine.Domain.SpendingControls.None : controls), "controls.");
    }

    /// <summary>
    /// One command of an Execute batch. Errors name the field as <c>commands[i].&lt;kind&gt;.&lt;field&gt;</c>.
    /// </summary>
    public static DomainCommand ToDomain(ProtoCommand command, int index)
    {
        try
        {
            return command.CommandCase switch
            {
                ProtoCommand.CommandOneofCase.Authorize => ToDomain(command.Authorize),
                ProtoCommand.CommandOneofCase.IncrementAuthorization => ToDomain(command.IncrementAuthorization),
                ProtoCommand.CommandOneofCase.Capture => ToDomain(command.Capture),
                ProtoCommand.CommandOneofCase.Void => ToDomain(command.Void),
                ProtoCommand.CommandOneofCase.ForcePost => ToDomain(command.ForcePost),
                ProtoCommand.CommandOneofCase.Refund => ToDomain(command.Refund),
                ProtoCommand.CommandOneofCase.Repay => ToDomain(command.Repay),
                ProtoCommand.CommandOneofCase.OpenAccount => ToDomain(command.OpenAccount),
                ProtoCommand.CommandOneofCase.ChangeLimit => ToDomain(command.ChangeLimit),
                ProtoCommand.CommandOneofCase.SetTemporaryLimit => ToDomain(command.SetTemporaryLimit),
                ProtoCommand.CommandOneofCase.Freeze => ToDomain(command.Freeze),
                ProtoCommand.CommandOneofCase.Unfreeze => ToDomain(command.Unfreeze),
                ProtoCommand.CommandOneofCase.CloseAccount => ToDomain(command.CloseAccount),
                ProtoCommand.CommandOneofCase.SetSpendingControls => ToDomain(command.SetSpendingControls),
                ProtoCommand.CommandOneofCase.SetBillingTerms => LifecycleMapping.ToDomain(command.SetBillingTerms),
                ProtoCommand.CommandOneofCase.ScheduleDues => LifecycleMapping.ToDomain(command.ScheduleDues),
                ProtoCommand.CommandOneofCase.SetDelinquencyPolicy => LifecycleMapping.ToDomain(command.SetDelinquencyPolicy),
                ProtoCommand.CommandOneofCase.TopUp => LifecycleMapping.ToDomain(command.TopUp),
                ProtoCommand.CommandOneofCase.ReleaseDeposit => LifecycleMapping.ToDomain(command.ReleaseDeposit),
                ProtoCommand.CommandOneofCase.ApplyDeposit => LifecycleMapping.ToDomain(command.ApplyDeposit),
                ProtoCommand.CommandOneofCase.PayOut => LifecycleMapping.ToDomain(command.PayOut),
                _ => throw new InvalidCommandException(new ValidationError("command", "exactly one command must be set (unset or unknown command kind)")),
            };
        }
        catch (InvalidCommandException e)
        {
            string kind = command.CommandCase == ProtoCommand.CommandOneofCase.None ? "" : SnakeCase(command.CommandCase.ToString()) + ".";
            string field = e.Error.Field == "command" ? $"commands[{index}].command" : $"commands[{index}].{kind}{e.Error.Field}";
            throw new InvalidCommandException(e.Error with { Field = field });
        }
    }

    private static DomainCommand Checked(DomainCommand command, string? controlsPrefix = null)
    {
        if (CommandValidator.Validate(command) is { } error)
        {
            // Spending-control fields live inside the `controls` message on the wire.
            if (controlsPrefix is not null && error.Field is not ("request_id" or "account_id" or "controls"))
                error = error with { Field = controlsPrefix + error.Field };
            throw new InvalidCommandException(error);
        }
        return command;
    }

    private static string? Optional(string value) => value.Length == 0 ? null : value;

    private static int OptionalMcc(bool present, int mcc)
    {
        if (!present) return -1;
        if (mcc is < 0 or > CommandValidator.MccMax)
            throw new InvalidCommandException(new ValidationError("mcc", $"must be 0..{CommandValidator.MccMax} when present"));
        return mcc;
    }

    private static string SnakeCase(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 8);
        for (int i = 0; i < pascal.Length; i++)
        {
            char c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0) builder.Append('_');
                builder.Append(char.ToLowerInvariant(c));
            }
            else builder.Append(c);
        }
        return builder.ToString();
    }
}
