using System.Globalization;
using Credit.V1;
using Engine.Domain;
using Engine.ReadModel;
using Engine.Server.Replication;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Engine.Server.Grpc;

/// <summary>
/// credit.v1.QueryService, answered from the <see cref="LedgerReadModel"/> (on a leader or a read replica): maps its
/// views to protos (<see cref="QueryMapping"/>), a missing account to NOT_FOUND and a read model that cannot answer to
/// UNAVAILABLE.
/// <c>min_sequence</c> waits (outside any lock) until the read model has applied that sequence, bounded by the call's
/// deadline; then DEADLINE_EXCEEDED — never an older answer. Every reply states the sequence it reflects, and its
/// trailers say how fresh that is (<see cref="ReplicationHeaders"/>): lag, and on a replica whether its leader is
/// connected, so an answer served while the leader is down is stale but labelled.
/// </summary>
public sealed class QueryGrpcService(LedgerReadModel readModel, ReadModelFeed feed, IOptions<ReadModelOptions> options) : QueryService.QueryServiceBase
{
    private readonly ReadModelOptions _options = options.Value;

    public override async Task<GetAccountResponse> GetAccount(GetAccountRequest request, ServerCallContext context)
    {
        CheckAccountId(request.AccountId);
        await WaitForAsync(request.MinSequence, context).ConfigureAwait(false);
        return Labelled(QueryMapping.ToProto(readModel.GetAccount(request.AccountId) ?? throw AccountNotFound(request.AccountId)), context);
    }

    public override async Task<ListAuthorizationsResponse> ListAuthorizations(ListAuthorizationsRequest request, ServerCallContext context)
    {
        CheckAccountId(request.AccountId);
        bool openOnly = request.Filter switch
        {
            AuthorizationFilter.Unspecified or AuthorizationFilter.Open => true,
            AuthorizationFilter.All => false,
            _ => throw GrpcErrors.InvalidArgument("filter", $"unknown AuthorizationFilter value {(int)request.Filter}"),
        };
        int pageSize = PageSize(request.PageSize, "page_size");
        long after = 0;
        if (request.PageToken.Length > 0 && (!long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out after) || after < 0))
            throw GrpcErrors.InvalidArgument("page_token", "is not a token this server returned");
        await WaitForAsync(request.MinSequence, context).ConfigureAwait(false);
        return Labelled(QueryMapping.ToProto(readModel.ListAuthorizations(request.AccountId, openOnly, after, pageSize) ?? throw AccountNotFound(request.AccountId)), context);
    }

    public override async Task<ListEventsResponse> ListEvents(ListEventsRequest request, ServerCallContext context)
    {
        CheckAccountId(request.AccountId);
        if (request.FromSequence < 0) throw GrpcErrors.InvalidArgument("from_sequence", "must be >= 0");
        int limit = PageSize(request.Limit, "limit");
        EventTypeFilter types = TypesOf(request);
        await WaitForAsync(request.MinSequence, context).ConfigureAwait(false);
        EventPage page = GrpcErrors.FromReadModel(() => readModel.ListEvents(request.AccountId, request.FromSequence, limit, types)) ?? throw AccountNotFound(request.AccountId);
        return Labelled(QueryMapping.ToProto(page), context);
    }

    private static EventTypeFilter TypesOf(ListEventsRequest request)
    {
        var types = new Engine.Domain.EventType[request.EventTypes.Count];
        for (int i = 0; i < types.Length; i++)
        {
            Credit.V1.EventType type = request.EventTypes[i];
            if (type == Credit.V1.EventType.Unspecified || !Enum.IsDefined(type))
                throw GrpcErrors.InvalidArgument($"event_types[{i}]", $"is not an event type ({(int)type})");
            types[i] = EnumMapping.ToDomain(type);
        }
        return EventTypeFilter.Of(types);
    }

    private static void CheckAccountId(string accountId)
    {
        if (CommandValidator.CheckId(accountId, "account_id", required: true) is { } error) throw GrpcErrors.InvalidArgument(error);
    }

    public override async Task<ListDelinquentAccountsResponse> ListDelinquentAccounts(ListDelinquentAccountsRequest request, ServerCallContext context)
    {
        bool byBucket = request.Bucket != AgingBucket.Unspecified;
        if (byBucket && request.Stage != Credit.V1.DelinquencyStage.Current)
            throw GrpcErrors.InvalidArgument("bucket", "give a stage or a bucket, not both");
        if (byBucket && !Enum.IsDefined(request.Bucket))
            throw GrpcErrors.InvalidArgument("bucket", $"unknown AgingBucket value {(int)request.Bucket}");
        if (!byBucket && request.Stage is not (Credit.V1.DelinquencyStage.Watch or Credit.V1.DelinquencyStage.FrozenDelinquent or Credit.V1.DelinquencyStage.ChargedOff))
            throw GrpcErrors.InvalidArgument("stage", "must be DELINQUENCY_STAGE_WATCH, DELINQUENCY_STAGE_FROZEN_DELINQUENT or DELINQUENCY_STAGE_CHARGED_OFF (or give a bucket)");
        int pageSize = PageSize(request.PageSize, "page_size");
        await WaitForAsync(request.MinSequence, context).ConfigureAwait(false);
        DelinquentAccountPage page;
        try
        {
            page = byBucket
                ? readModel.ListAccountsInAgingBucket((int)request.Bucket, request.PageToken, pageSize)
                : readModel.ListDelinquentAccounts((Engine.Domain.DelinquencyStage)(int)request.Stage, request.PageToken, pageSize);
        }
        catch (ArgumentException)
        {
            throw GrpcErrors.InvalidArgument("page_token", "is not a token from a previous page");
        }
        var response = new ListDelinquentAccountsResponse { Sequence = page.Sequence, NextPageToken = page.NextPageToken ?? "" };
        foreach (DelinquentAccountView row in page.Accounts)
        {
            response.Accounts.Add(new DelinquentAccount
            {
                AccountId = row.AccountId, CustomerId = row.CustomerId, Stage = (Credit.V1.DelinquencyStage)(int)row.Stage,
                PastDue = row.PastDueMinor, DaysPastDue = row.DaysPastDue, Deposit = row.DepositMinor,
            });
        }
        return Labelled(response, context);
    }

    public override async Task<GetPortfolioResponse> GetPortfolio(GetPortfolioRequest request, ServerCallContext context)
    {
        await WaitForAsync(request.MinSequence, context).ConfigureAwait(false);
        PortfolioView view = readModel.GetPortfolio();
        var response = new GetPortfolioResponse
        {
            Receivables = view.ReceivablesMinor, PastDue = view.PastDueMinor, Deposits = view.DepositsMinor, Prepaid = view.PrepaidMinor, Sequence = view.Sequence,
        };
        foreach (Engine.Domain.AccountStatus status in Enum.GetValues<Engine.Domain.AccountStatus>())
            response.ByStatus.Add(new Credit.V1.PortfolioGroup { Accounts = view.ByStatus[status].Accounts, Exposure = view.ByStatus[status].ExposureMinor });
        foreach (Engine.Domain.DelinquencyStage stage in Enum.GetValues<Engine.Domain.DelinquencyStage>())
            response.ByStage.Add(new Credit.V1.PortfolioGroup { Accounts = view.ByStage[stage].Accounts, Exposure = view.ByStage[stage].ExposureMinor });
        response.Aging.Add(view.AgingMinor);
        foreach (Engine.ReadModel.PortfolioMonth month in view.Months)
            response.Months.Add(new Credit.V1.PortfolioMonth { Year = month.Year, Month = month.Month, Repaid = month.RepaidMinor, NewPastDue = month.NewPastDueMinor });
        foreach (DelinquentAccountView row in view.LargestPastDue)
        {
            response.LargestPastDue.Add(new DelinquentAccount
            {
                AccountId = row.AccountId, CustomerId = row.CustomerId, Stage = (Credit.V1.DelinquencyStage)(int)row.Stage,
                PastDue = row.PastDueMinor, DaysPastDue = row.DaysPastDue, Deposit = row.DepositMinor,
            });
        }
        return Labelled(response, context);
    }

    private int PageSize(int requested, string field)
    {
        if (requested < 0 || requested > _options.PageSizeMax)
            throw GrpcErrors.InvalidArgument(field, $"must be 0..{_options.PageSizeMax} (0 = {_options.PageSizeDefault})");
        return requested == 0 ? _options.PageSizeDefault : requested;
    }

    private async Task WaitForAsync(long minSequence, ServerCallContext context)
    {
        if (minSequence < 0) throw GrpcErrors.InvalidArgument("min_sequence", "must be >= 0");
        if (readModel.Fault is not null) throw GrpcErrors.NotRunning("the read model stopped after an internal failure; see the server log");
        if (minSequence == 0) return;
        if (!await readModel.WaitForSequenceAsync(minSequence, context.CancellationToken).ConfigureAwait(false))
        {
            if (readModel.Fault is not null) throw GrpcErrors.NotRunning("the read model stopped after an internal failure");
            throw GrpcErrors.DeadlineExceeded($"the read model reached sequence {readModel.AppliedSequence}, not min_sequence {minSequence}, before the deadline");
        }
    }

    private T Labelled<T>(T response, ServerCallContext context)
    {
        IUpstreamStatus? upstream = feed.Upstream;
        long applied = readModel.AppliedSequence;
        context.ResponseTrailers.Add(ReplicationHeaders.AppliedSequence, applied.ToString(CultureInfo.InvariantCulture));
        context.ResponseTrailers.Add(ReplicationHeaders.LagEvents, Math.Max(0, readModel.HeadSequence - applied).ToString(CultureInfo.InvariantCulture));
        context.ResponseTrailers.Add(ReplicationHeaders.LagMs, readModel.LagMs(upstream?.Connected ?? true).ToString(CultureInfo.InvariantCulture));
        if (upstream is not null) context.ResponseTrailers.Add(ReplicationHeaders.LeaderConnected, upstream.Connected ? "true" : "false");
        return response;
    }

    private static RpcException AccountNotFound(string accountId) => GrpcErrors.NotFound($"account '{accountId}' does not exist");
}
