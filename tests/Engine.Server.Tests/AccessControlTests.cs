using Credit.V1;
using Engine.Client;
using Engine.Server.Security;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static Engine.Server.Tests.Wire;
using GrpcStatus = Grpc.Core.Status;
using Status = Credit.V1.Status;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Engine.Server.Tests;

/// <summary>
/// API keys and roles (issue #14 items 1–2, README "Access control"): every RPC × every role through a real server,
/// missing and unknown keys, Execute checked command by command, key rotation through the reloaded key file, the
/// SDK and a replica with their keys, and the refusal to run open on a reachable address.
/// </summary>
public sealed class AccessControlTests
{
    private static readonly TestPrincipal Authorizer = TestPrincipal.Create("pos-switch", AccessRoles.Authorizer);
    private static readonly TestPrincipal AccountAdmin = TestPrincipal.Create("desk", AccessRoles.AccountAdmin);
    private static readonly TestPrincipal Reader = TestPrincipal.Create("statements", AccessRoles.Reader);
    private static readonly TestPrincipal ReplicaPrincipal = TestPrincipal.Create("replica-1", AccessRoles.Replica);
    private static readonly TestPrincipal Operator = TestPrincipal.Create("ops", AccessRoles.Operator);
    private static readonly TestPrincipal[] OneRoleEach = [Authorizer, AccountAdmin, Reader, ReplicaPrincipal, Operator];

    /// <summary>The services this server maps, from their generated descriptors.</summary>
    private static readonly ServiceDescriptor[] Services =
    [
        AuthorizationService.Descriptor, AccountService.Descriptor, LifecycleService.Descriptor, PipelineService.Descriptor,
        EventService.Descriptor, QueryService.Descriptor, ReplicationService.Descriptor,
        global::Grpc.Health.V1.Health.Descriptor, global::Grpc.Reflection.V1Alpha.ServerReflection.Descriptor, global::Grpc.Reflection.V1.ServerReflection.Descriptor,
    ];

    /// <summary>
    /// The rules as issue #14 states them, written out here a second time (not read from <see cref="AccessPolicy"/>),
    /// so a wrong row in the policy fails the matrix test. "" = open to anyone.
    /// </summary>
    private static string[] ExpectedRoles(MethodDescriptor method) => (method.Service.FullName, method.Name) switch
    {
        ("credit.v1.AuthorizationService", _) => [AccessRoles.Authorizer],
        ("credit.v1.AccountService", _) => [AccessRoles.AccountAdmin],
        ("credit.v1.LifecycleService", "AdvanceClock") => [AccessRoles.Operator],
        ("credit.v1.LifecycleService", _) => [AccessRoles.AccountAdmin],
        // With an Authorize command (see RequestFor); administration commands are Execute_checks_each_command_….
        ("credit.v1.PipelineService", "Execute") => [AccessRoles.Authorizer],
        ("credit.v1.EventService", _) => [AccessRoles.Reader],
        ("credit.v1.QueryService", _) => [AccessRoles.Reader],
        ("credit.v1.ReplicationService", "GetStatus") => [AccessRoles.Operator],
        ("credit.v1.ReplicationService", "GetSnapshot") => [AccessRoles.Replica],
        ("grpc.health.v1.Health", "Check" or "Watch") => [""],
        ("grpc.reflection.v1alpha.ServerReflection" or "grpc.reflection.v1.ServerReflection", _) => [AccessRoles.Reader, AccessRoles.Operator],
        _ => throw new InvalidOperationException($"{method.FullName}: this test does not know the rule; add it here and to AccessPolicy"),
    };

    private static IMessage RequestFor(MethodDescriptor method) => method.FullName switch
    {
        "credit.v1.PipelineService.Execute" => new ExecuteRequest
        {
            BatchId = 1,
            Commands = { new Command { Authorize = new AuthorizeRequest { RequestId = Id("auth"), AccountId = "acct-none", Amount = 1, Currency = "USD" } } },
        },
        "grpc.reflection.v1alpha.ServerReflection.ServerReflectionInfo" or "grpc.reflection.v1.ServerReflection.ServerReflectionInfo" =>
            AnyCall.Request(method, new global::Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" }),
        _ => AnyCall.Request(method),
    };

    private static string[] KeyedArguments(params TestPrincipal[] principals) => [.. principals.SelectMany(p => p.Arguments())];

    [Fact]
    public async Task Every_rpc_of_every_mapped_service_has_an_access_rule_and_every_rule_names_a_real_rpc()
    {
        string[] described = [.. Services.SelectMany(service => service.Methods).Select(m => $"{m.Service.FullName}/{m.Name}")];
        Assert.All(described, method => Assert.True(AccessPolicy.RuleOf(method) is not null, $"{method} has no row in AccessPolicy.Rules"));
        Assert.All(AccessPolicy.Rules.Keys, row => Assert.Contains(row, described));

        // What the server really maps (both Execute handlers serve the same method name).
        await using TestServer server = await TestServer.StartAsync(null, KeyedArguments(Operator));
        string[] mapped = [.. server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(endpoint => endpoint.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.FullName)
            .OfType<string>().Distinct()];
        Assert.Contains("/credit.v1.AuthorizationService/Authorize", mapped);
        Assert.All(mapped, method => Assert.True(AccessPolicy.RuleOf(method) is not null, $"{method} is mapped but has no access rule"));
    }

    [Fact]
    public void Every_command_kind_of_Execute_needs_the_role_of_its_unary_rpc()
    {
        foreach (Command.CommandOneofCase kind in Enum.GetValues<Command.CommandOneofCase>().Where(k => k != Command.CommandOneofCase.None))
        {
            string? role = AccessPolicy.RoleOf(kind);
            string unary = AuthorizationService.Descriptor.Methods.Any(m => m.Name == kind.ToString()) ? AccessRoles.Authorizer
                : AccountService.Descriptor.Methods.Any(m => m.Name == kind.ToString()) || LifecycleService.Descriptor.Methods.Any(m => m.Name == kind.ToString()) ? AccessRoles.AccountAdmin
                : throw new InvalidOperationException($"Execute command {kind} has no unary RPC of the same name");
            Assert.Equal(unary, role);
        }
        foreach (Engine.Domain.CommandType type in Enum.GetValues<Engine.Domain.CommandType>().Where(t => t is not (Engine.Domain.CommandType.None or Engine.Domain.CommandType.Tick)))
            Assert.True(AccessRoles.IsKnown(AccessPolicy.RoleOf(type) ?? ""), $"{type} has no role");
        Assert.Equal(AccessPolicy.NoRole, AccessPolicy.RoleOf(Engine.Domain.CommandType.Tick));
    }

    [Fact]
    public async Task Every_rpc_admits_exactly_the_roles_of_the_table_and_refuses_the_others_PERMISSION_DENIED_naming_the_role()
    {
        await using TestServer server = await TestServer.StartAsync(null, KeyedArguments(OneRoleEach));
        CallInvoker invoker = server.Channel.CreateCallInvoker();
        var failures = new List<string>();
        foreach (MethodDescriptor method in Services.SelectMany(service => service.Methods))
        {
            string[] expected = ExpectedRoles(method);
            foreach (TestPrincipal principal in OneRoleEach)
            {
                GrpcStatus status = await AnyCall.InvokeAsync(invoker, method, RequestFor(method), principal.Call(seconds: 5));
                bool admitted = expected.Contains("") || principal.Roles.Any(expected.Contains);
                if (admitted && status.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated)
                    failures.Add($"{method.FullName} as {principal.Roles[0]}: refused {status.StatusCode} ({status.Detail}), the table admits it");
                if (!admitted && (status.StatusCode != StatusCode.PermissionDenied || !expected.All(role => status.Detail.Contains($"'{role}'", StringComparison.Ordinal))))
                    failures.Add($"{method.FullName} as {principal.Roles[0]}: {status.StatusCode} ({status.Detail}), expected PERMISSION_DENIED naming {string.Join(" or ", expected)}");
            }
            // Without any key: UNAUTHENTICATED, except what is open.
            GrpcStatus anonymous = await AnyCall.InvokeAsync(invoker, method, RequestFor(method), Deadline(5));
            if (expected.Contains("") != (anonymous.StatusCode != StatusCode.Unauthenticated))
                failures.Add($"{method.FullName} without a key: {anonymous.StatusCode} ({anonymous.Detail})");
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task A_missing_or_unknown_key_is_UNAUTHENTICATED_and_health_Check_stays_open()
    {
        await using TestServer server = await TestServer.StartAsync(null, KeyedArguments(AccountAdmin));
        var request = new OpenAccountRequest { RequestId = Id("open"), AccountId = Id("acct"), CustomerId = "c", Currency = "USD", CreditLimit = 10 };

        RpcException missing = await Assert.ThrowsAsync<RpcException>(() => server.Accounts.OpenAccountAsync(request, Deadline()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains("authorization: Bearer", missing.Status.Detail);

        RpcException unknown = await Assert.ThrowsAsync<RpcException>(() => server.Accounts.OpenAccountAsync(request, TestPrincipal.Create("x", AccessRoles.AccountAdmin).Call()).ResponseAsync);
        Assert.Equal((StatusCode.Unauthenticated, "unknown API key"), (unknown.StatusCode, unknown.Status.Detail));

        RpcException notBearer = await Assert.ThrowsAsync<RpcException>(() => server.Accounts.OpenAccountAsync(request,
            new CallOptions(new Metadata { { "authorization", AccountAdmin.Key } }, DateTime.UtcNow.AddSeconds(10))).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, notBearer.StatusCode);

        // Nothing was executed by the refused calls: the same request id is new to the engine.
        OpenAccountResponse opened = await server.Accounts.OpenAccountAsync(request, AccountAdmin.Call());
        Assert.Equal((Status.Ok, false), (opened.Status, opened.Replayed));

        var health = new global::Grpc.Health.V1.Health.HealthClient(server.Channel);
        Assert.Equal(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest(), Deadline())).Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Execute_checks_each_command_kind_so_a_mixed_batch_needs_both_roles(bool zeroCopy)
    {
        var both = TestPrincipal.Create("gateway", AccessRoles.Authorizer, AccessRoles.AccountAdmin);
        await using TestServer server = await TestServer.StartAsync(null, [.. KeyedArguments(Authorizer, both, Reader), $"--Server:ZeroCopyExecute={zeroCopy}"]);
        string account = Id("acct");
        Command Open(string id) => new() { OpenAccount = new OpenAccountRequest { RequestId = Id("open"), AccountId = id, CustomerId = "c", Currency = "USD", CreditLimit = 1_000 } };
        Command Authorize() => new() { Authorize = new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 1, Currency = "USD" } };

        // The authorizer's first batch (authorizations only) is answered; its mixed batch ends the stream naming account-admin.
        string unopened = Id("acct");
        using (AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = server.Pipeline.Execute(Authorizer.Call()))
        {
            await call.RequestStream.WriteAsync(new ExecuteRequest { BatchId = 1, Commands = { Authorize() } });
            await call.RequestStream.WriteAsync(new ExecuteRequest { BatchId = 2, Commands = { Authorize(), Open(unopened) } });
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal(1UL, call.ResponseStream.Current.BatchId);
            Assert.Equal(Status.AccountNotFound, Assert.Single(call.ResponseStream.Current.Replies).Status);
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Contains("'account-admin'", refused.Status.Detail);
            Assert.Contains("commands[1]", refused.Status.Detail);
        }
        // Nothing of the refused batch reached the engine.
        RpcException notOpened = await Assert.ThrowsAsync<RpcException>(() => server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = unopened }, Reader.Call()).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, notOpened.StatusCode);

        // A principal with both roles sends the same mixed batch.
        using (AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = server.Pipeline.Execute(both.Call()))
        {
            await call.RequestStream.WriteAsync(new ExecuteRequest { BatchId = 3, Commands = { Open(account), Authorize() } });
            Assert.True(await call.ResponseStream.MoveNext());
            Assert.Equal([Status.Ok, Status.Ok], call.ResponseStream.Current.Replies.Select(r => r.Status));
            await call.RequestStream.CompleteAsync();
        }

        // A principal that may send no command at all is refused at once.
        using (AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = server.Pipeline.Execute(Reader.Call()))
        {
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Contains("'authorizer' or 'account-admin'", refused.Status.Detail);
        }
    }

    [Fact]
    public async Task Subscribe_in_EVENT_BLOCKS_format_needs_the_replica_role_and_the_event_format_needs_reader()
    {
        await using TestServer server = await TestServer.StartAsync(null, KeyedArguments(Reader, ReplicaPrincipal));
        var blocks = new SubscribeRequest { FromSequence = 1, Format = SubscribeFormat.EventBlocks };

        using (AsyncServerStreamingCall<SubscribeResponse> call = server.Events.Subscribe(blocks, Reader.Call(5)))
        {
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Contains("'replica'", refused.Status.Detail);
            Assert.Contains("EVENT_BLOCKS", refused.Status.Detail);
        }
        using (AsyncServerStreamingCall<SubscribeResponse> call = server.Events.Subscribe(blocks, ReplicaPrincipal.Call(5)))
            Assert.NotNull(await call.ResponseHeadersAsync); // admitted: the stream opened
        using (AsyncServerStreamingCall<SubscribeResponse> call = server.Events.Subscribe(new SubscribeRequest { FromSequence = 1 }, ReplicaPrincipal.Call(5)))
        {
            RpcException refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
            Assert.Contains("'reader'", refused.Status.Detail);
        }
    }

    [Fact]
    public async Task A_key_rotated_in_the_key_file_takes_effect_without_restart_and_a_bad_file_keeps_the_previous_keys()
    {
        string directory = TestServer.NewDataDirectory();
        string keyFile = Path.Combine(directory, "keys.json");
        string oldKey = ApiKeyHash.NewKey(), newKey = ApiKeyHash.NewKey();
        WriteKeyFile(keyFile, ApiKeyHash.Of(oldKey));
        await using TestServer server = await TestServer.StartAsync(null, $"--Access:KeyFile={keyFile}", "--Access:KeyFileReloadIntervalMs=100");
        ApiKeyStore store = server.Services.GetRequiredService<ApiKeyStore>();

        Assert.Equal(StatusCode.NotFound, await GetAccountStatusAsync(server, oldKey));
        Assert.Equal(StatusCode.Unauthenticated, await GetAccountStatusAsync(server, newKey));

        // Step 1 of a rotation: both keys are valid while callers move to the new one.
        WriteKeyFile(keyFile, ApiKeyHash.Of(oldKey), ApiKeyHash.Of(newKey));
        await WaitUntilAsync(async () => await GetAccountStatusAsync(server, newKey) == StatusCode.NotFound, TimeSpan.FromSeconds(20), "the new key to be accepted");
        Assert.Equal(StatusCode.NotFound, await GetAccountStatusAsync(server, oldKey));

        // Step 2: the old key is removed and stops working; the new one keeps working.
        WriteKeyFile(keyFile, ApiKeyHash.Of(newKey));
        await WaitUntilAsync(async () => await GetAccountStatusAsync(server, oldKey) == StatusCode.Unauthenticated, TimeSpan.FromSeconds(20), "the old key to be refused");
        Assert.Equal(StatusCode.NotFound, await GetAccountStatusAsync(server, newKey));

        // A file that does not validate (a plain key where a hash belongs) is not loaded: the keys in force stay.
        WriteKeyFile(keyFile, "not-a-hash");
        await WaitUntilAsync(() => Task.FromResult(store.LastReloadError is not null), TimeSpan.FromSeconds(20), "the bad key file to be rejected");
        Assert.Contains("KeyHashes", store.LastReloadError);
        Assert.Equal(StatusCode.NotFound, await GetAccountStatusAsync(server, newKey));
    }

    [Fact]
    public async Task Sdk_with_ApiKey_authenticates_unary_calls_Subscribe_and_the_multiplexers_Execute_streams()
    {
        var application = TestPrincipal.Create("app", AccessRoles.Authorizer, AccessRoles.AccountAdmin, AccessRoles.Reader);
        await using TestServer server = await TestServer.StartAsync(null, KeyedArguments(application));
        using var client = new CreditEngineClient(server.Address, new CreditEngineClientOptions { ApiKey = application.Key, Multiplex = true });
        string account = Id("acct");

        OpenAccountResponse opened = await client.OpenAccountAsync(new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 100 });
        AuthorizeResponse authorized = await client.AuthorizeAsync(new AuthorizeRequest { RequestId = Id("auth"), AccountId = account, Amount = 40, Currency = "USD" });
        Assert.Equal((Status.Ok, Status.Ok), (opened.Status, authorized.Status));
        Assert.True(client.Multiplexer!.BatchesSent >= 2, "the commands went as Execute batches");
        GetAccountResponse state = await client.GetAccountAsync(new GetAccountRequest { AccountId = account });
        Assert.Equal(40, state.Account.Held);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (LedgerEvent e in client.SubscribeAsync(authorized.Sequence, cts.Token))
        {
            Assert.Equal(authorized.Sequence, e.Sequence);
            break;
        }

        // The same client without the key: each kind of call is refused.
        using var anonymous = new CreditEngineClient(server.Address, new CreditEngineClientOptions { Multiplex = true, MaxAttempts = 1 });
        RpcException command = await Assert.ThrowsAsync<RpcException>(() => anonymous.RepayAsync(new RepayRequest { RequestId = Id("pay"), AccountId = account, Amount = 1 }));
        Assert.Equal(StatusCode.Unauthenticated, command.StatusCode);
        RpcException query = await Assert.ThrowsAsync<RpcException>(() => anonymous.GetAccountAsync(new GetAccountRequest { AccountId = account }));
        Assert.Equal(StatusCode.Unauthenticated, query.StatusCode);
    }

    [Fact]
    public async Task A_replica_follows_a_keyed_leader_with_its_own_key_and_one_without_a_key_is_refused()
    {
        var admin = TestPrincipal.Create("admin", AccessRoles.AccountAdmin, AccessRoles.Reader, AccessRoles.Operator);
        await using TestServer leader = await TestServer.StartAsync(null, KeyedArguments(admin, ReplicaPrincipal));
        string account = Id("acct");
        OpenAccountResponse opened = await leader.Accounts.OpenAccountAsync(
            new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 77 }, admin.Call());
        Assert.Equal(Status.Ok, opened.Status);

        using ChildServer keyed = await ChildServer.StartAsync(TestServer.NewDataDirectory(), "--Engine:Mode=ReadReplica", $"--Engine:LeaderUrl={leader.Address}",
            "--Replica:ReconnectDelayMaxMs=300", $"--Replica:ApiKey={ReplicaPrincipal.Key}");
        using ChildServer keyless = await ChildServer.StartAsync(TestServer.NewDataDirectory(), "--Engine:Mode=ReadReplica", $"--Engine:LeaderUrl={leader.Address}",
            "--Replica:ReconnectDelayMaxMs=300");

        // The replica itself listens on loopback without keys: open, so the test reads it without a key.
        GetAccountResponse copied = await keyed.Queries.GetAccountAsync(new GetAccountRequest { AccountId = account, MinSequence = opened.Sequence }, Deadline(30));
        Assert.Equal(77, copied.Account.CreditLimit);
        ReplicationStatus leaderStatus = await new ReplicationService.ReplicationServiceClient(leader.Channel).GetStatusAsync(new GetReplicationStatusRequest(), admin.Call());
        Assert.Single(leaderStatus.Subscribers);

        await WaitUntilAsync(async () => (await ReplicaTests.StatusOf(keyless.Channel)).LastError.Contains("Unauthenticated", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the keyless replica to report the leader's refusal");
        Assert.False((await ReplicaTests.StatusOf(keyless.Channel)).LeaderConnected);
    }

    [Fact]
    public async Task The_audit_actor_of_administration_is_the_authenticated_principals_name_unary_and_in_Execute()
    {
        var both = TestPrincipal.Create("gateway", AccessRoles.AccountAdmin, AccessRoles.Reader);
        await using TestServer server = await TestServer.StartAsync(null, KeyedArguments(AccountAdmin, both));
        string account = Id("acct");
        OpenAccountResponse opened = await server.Accounts.OpenAccountAsync(
            new OpenAccountRequest { RequestId = Id("open"), AccountId = account, CustomerId = "c", Currency = "USD", CreditLimit = 100 }, AccountAdmin.Call());
        Assert.Equal(Status.Ok, opened.Status);
        long last;
        using (AsyncDuplexStreamingCall<ExecuteRequest, ExecuteResponse> call = server.Pipeline.Execute(both.Call()))
        {
            await call.RequestStream.WriteAsync(new ExecuteRequest
            {
                BatchId = 1, Commands = { new Command { ChangeLimit = new ChangeLimitRequest { RequestId = Id("limit"), AccountId = account, CreditLimit = 200 } } },
            });
            Assert.True(await call.ResponseStream.MoveNext());
            last = Assert.Single(call.ResponseStream.Current.Replies).Sequence;
            await call.RequestStream.CompleteAsync();
        }

        ListEventsResponse page = await server.Queries.ListEventsAsync(new ListEventsRequest { AccountId = account, MinSequence = last }, both.Call());
        Assert.Equal([(EventType.AccountOpened, "desk"), (EventType.LimitChanged, "gateway")], page.Events.Select(e => (e.Type, e.Actor)));
    }

    [Fact]
    public async Task Bound_to_a_non_loopback_address_without_keys_the_server_refuses_to_start_exit_2_saying_how_to_configure_keys()
    {
        (int exitCode, string output) = await ChildServer.RunToExitAsync(TestServer.NewDataDirectory(), TimeSpan.FromSeconds(60), "--urls", "http://0.0.0.0:0");

        Assert.True(exitCode == Engine.Server.Hosting.ServerApp.ExitCodeStartupRefused, $"exit {exitCode}:\n{output}");
        Assert.Contains("refusing to listen on http://0.0.0.0:0 without API keys", output, StringComparison.Ordinal);
        Assert.Contains("Access:Principals:<name>:KeyHashes", output, StringComparison.Ordinal);
        Assert.Contains("Access:KeyFile", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_loopback_without_keys_the_server_runs_open_and_logs_a_warning_saying_so()
    {
        using ChildServer server = await ChildServer.StartAsync(TestServer.NewDataDirectory());
        Assert.Contains("access control is OFF", server.Output, StringComparison.Ordinal);
        OpenAccountResponse opened = await server.Accounts.OpenAccountAsync(
            new OpenAccountRequest { RequestId = Id("open"), AccountId = Id("acct"), CustomerId = "c", Currency = "USD", CreditLimit = 1 }, Deadline(30));
        Assert.Equal(Status.Ok, opened.Status);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("http://127.0.0.2:5000", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://+:5000", false)]
    [InlineData("https://10.1.2.3:5000", false)]
    [InlineData("http://engine.internal:5000", false)]
    public void Only_loopback_addresses_count_as_loopback(string url, bool loopback) => Assert.Equal(loopback, ListenAddresses.IsLoopback(url));

    [Fact]
    public void Ports_alone_and_Kestrel_endpoints_count_as_listen_addresses()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["http_ports"] = "8080",
            ["Kestrel:Endpoints:grpc:Url"] = "http://10.0.0.5:5000",
        }).Build();
        Assert.Equal(["http://*:8080", "http://10.0.0.5:5000"], ListenAddresses.From(configuration, "http://127.0.0.1:5000"));
        Assert.Equal(["http://127.0.0.1:5000"], ListenAddresses.From(new ConfigurationBuilder().Build(), "http://127.0.0.1:5000"));
    }

    [Theory]
    [InlineData("Access:Principals:desk:KeyHashes", "plain-key-not-a-hash", "Access:Principals:desk:KeyHashes")]
    [InlineData("Access:Principals:desk:Roles", "admin", "unknown role 'admin'")]
    [InlineData("Access:Principals:desk:Keys", "x", "Access:Principals:desk:Keys: unknown setting")]
    [InlineData("Access:KeyFileReloadIntervalMs", "1", "Access:KeyFileReloadIntervalMs")]
    [InlineData("Access:KeyFile", "/nonexistent/keys.json", "does not exist")]
    public void A_bad_access_setting_refuses_start_naming_the_setting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Access:Principals:desk:Roles"] = "account-admin",
            ["Access:Principals:desk:KeyHashes"] = ApiKeyHash.Of("k"),
            [key] = value,
        };
        ArgumentException e = Assert.Throws<ArgumentException>(() => new ApiKeyStore(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("plain-key-not-a-hash", e.Message, StringComparison.Ordinal); // a key pasted by mistake is not echoed
    }

    [Fact]
    public void An_authenticated_call_sets_HttpContext_User_to_the_principal_with_its_roles()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Access:Principals:desk:Roles:0"] = "account-admin",
            ["Access:Principals:desk:Roles:1"] = "reader",
            ["Access:Principals:desk:KeyHashes:0"] = ApiKeyHash.Of("old-key"),
            ["Access:Principals:desk:KeyHashes:1"] = ApiKeyHash.Of("new-key"),
        };
        var authentication = new AccessAuthentication(new ApiKeyStore(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        foreach (string key in new[] { "old-key", "new-key" })
        {
            var context = new DefaultHttpContext();
            context.Request.Headers.Authorization = "Bearer " + key;
            Assert.Equal("desk", authentication.Authenticate(context).Principal?.Name);
            Assert.True(context.User.Identity?.IsAuthenticated);
            Assert.Equal("desk", context.User.Identity?.Name);
            Assert.True(context.User.IsInRole("account-admin") && context.User.IsInRole("reader") && !context.User.IsInRole("authorizer"));
        }
        var unknown = new DefaultHttpContext();
        unknown.Request.Headers.Authorization = "Bearer other";
        Assert.Equal("unknown API key", authentication.Authenticate(unknown).Failure);
        Assert.False(unknown.User.Identity?.IsAuthenticated ?? false);
    }

    [Fact]
    public void Hash_key_prints_the_SHA_256_hex_that_sha256sum_prints()
    {
        var output = new StringWriter();
        Assert.Equal(0, KeyCommands.TryRun(["hash-key", "abc"], TextReader.Null, output, TextWriter.Null));
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", output.ToString().Trim());
        var fromStdin = new StringWriter();
        Assert.Equal(0, KeyCommands.TryRun(["hash-key", "-"], new StringReader("abc\n"), fromStdin, TextWriter.Null));
        Assert.Equal(output.ToString(), fromStdin.ToString());
        Assert.Null(KeyCommands.TryRun(["--urls", "http://127.0.0.1:5000"], TextReader.Null, TextWriter.Null, TextWriter.Null));
    }

    private static async Task<StatusCode> GetAccountStatusAsync(TestServer server, string key)
    {
        try
        {
            await server.Queries.GetAccountAsync(new GetAccountRequest { AccountId = "acct-none" }, new CallOptions(new Metadata { { "authorization", "Bearer " + key } }, DateTime.UtcNow.AddSeconds(10)));
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>Replaces the key file in one rename, as an operator's tooling would (the reader never sees half a file).</summary>
    private static void WriteKeyFile(string path, params string[] keyHashes)
    {
        string hashes = string.Join(", ", keyHashes.Select(h => $"\"{h}\""));
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, $$"""{ "Principals": { "statements": { "Roles": ["reader"], "KeyHashes": [{{hashes}}] } } }""");
        File.Move(temporary, path, overwrite: true);
    }
}
