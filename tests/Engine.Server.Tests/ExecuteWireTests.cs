using Credit.V1;
using Engine.Domain;
using Engine.Server.Grpc;
using Google.Protobuf;
using DomainCommand = Engine.Domain.Command;
using ProtoCommand = Credit.V1.Command;

namespace Engine.Server.Tests;

/// <summary>The zero-copy Execute marshalling (ExecuteWire) against the generated protobuf types: the same wire format both ways.</summary>
public sealed class ExecuteWireTests
{
    private static ExecuteRequest Mixed() => new()
    {
        BatchId = 77,
        Commands =
        {
            new ProtoCommand { Authorize = new AuthorizeRequest { RequestId = "r-1", AccountId = "a-1", Amount = 1_250, Currency = "USD" } },
            new ProtoCommand { Authorize = new AuthorizeRequest { RequestId = "r-2", AccountId = "a-2", Amount = long.MaxValue, Currency = "EUR", MerchantId = "m-9", Mcc = 0, ExpiresInSeconds = 60 } },
            new ProtoCommand { Repay = new RepayRequest { RequestId = "r-3", AccountId = "a-1", Amount = 5 } },
            new ProtoCommand { Capture = new CaptureRequest { RequestId = "r-4", AuthorizationId = "r-1", Amount = 1_000, Final = true } },
            new ProtoCommand { Authorize = new AuthorizeRequest { RequestId = "r-5", AccountId = "a-1", Amount = 1, Currency = "USD", Mcc = 5411 } },
        },
    };

    private static DomainCommand[] Generated(ExecuteRequest request) => [.. request.Commands.Select((c, i) => CommandMapping.ToDomain(c, i))];

    [Fact]
    public void Requests_encoded_by_the_generated_types_decode_to_the_commands_the_generated_mapping_gives()
    {
        ExecuteRequest request = Mixed();

        ExecuteBatch batch = ExecuteWire.Parse(request.ToByteArray());

        Assert.Null(batch.Error);
        Assert.Equal(77UL, batch.BatchId);
        Assert.Equal(Generated(request), batch.Memory.ToArray());
        batch.Return();
    }

    [Fact]
    public void Unknown_fields_in_an_authorize_are_skipped_as_the_generated_parser_skips_them()
    {
        var authorize = new AuthorizeRequest { RequestId = "r-1", AccountId = "a-1", Amount = 3, Currency = "USD" };
        byte[] known = authorize.ToByteArray();
        byte[] withUnknown = [.. known, 15 << 3 | 0, 1, 14 << 3 | 2, 2, (byte)'x', (byte)'y'];
        byte[] command = [1 << 3 | 2, (byte)withUnknown.Length, .. withUnknown];
        byte[] request = [2 << 3 | 2, (byte)command.Length, .. command];

        ExecuteBatch batch = ExecuteWire.Parse(request);

        Assert.Equal([CommandMapping.ToDomain(new ProtoCommand { Authorize = authorize }, 0)], batch.Memory.ToArray());
    }

    [Theory]
    [InlineData(0, "USD", -1, "commands[1].authorize.amount")]
    [InlineData(10, "usd", -1, "commands[1].authorize.currency")]
    [InlineData(10, "USD", -5, "commands[1].authorize.mcc")]
    public void A_malformed_authorize_is_refused_naming_the_field_as_the_generated_path_names_it(long amount, string currency, int mcc, string field)
    {
        var bad = new AuthorizeRequest { RequestId = "r-2", AccountId = "a-1", Amount = amount, Currency = currency };
        if (mcc != -1) bad.Mcc = mcc;
        var request = new ExecuteRequest
        {
            Commands =
            {
                new ProtoCommand { Repay = new RepayRequest { RequestId = "r-1", AccountId = "a-1", Amount = 1 } },
                new ProtoCommand { Authorize = bad },
                new ProtoCommand { Authorize = new AuthorizeRequest { RequestId = "r-3", AccountId = "a-1", Amount = 0, Currency = "USD" } },
            },
        };
        InvalidCommandException generated = Assert.Throws<InvalidCommandException>(() => Generated(request));

        ExecuteBatch batch = ExecuteWire.Parse(request.ToByteArray());

        Assert.Equal(3, batch.Count);
        Assert.Equal(field, batch.Error!.Value.Field);
        Assert.Equal(generated.Error, batch.Error.Value);
    }

    [Fact]
    public void Replies_encode_byte_for_byte_as_the_generated_ExecuteResponse()
    {
        ExecuteRequest request = Mixed();
        DomainCommand[] commands = Generated(request);
        Reply[] replies =
        [
            new() { Status = Engine.Domain.Status.Ok, AvailableMinor = -1_250, HeldMinor = 1_250, PostedMinor = 0, Sequence = 1 },
            new() { Status = Engine.Domain.Status.InsufficientCredit, AvailableMinor = 10, Sequence = long.MaxValue },
            new() { Status = Engine.Domain.Status.Ok, PostedMinor = -5, Sequence = 300, Replayed = true },
            new() { Status = Engine.Domain.Status.Ok, HeldMinor = 0, PostedMinor = 1_000, Sequence = 301 },
            new() { Status = Engine.Domain.Status.Ok, Sequence = 302, Replayed = true },
        ];
        var generated = new ExecuteResponse { BatchId = request.BatchId };
        for (int i = 0; i < commands.Length; i++) generated.Replies.Add(ReplyMapping.ToCommandReply(commands[i], replies[i]));

        byte[] ours = ExecuteWire.ToBytes(new ExecuteReplies(request.BatchId, commands, replies, commands.Length));

        Assert.Equal(generated.ToByteArray(), ours);
        Assert.Equal(generated, ExecuteResponse.Parser.ParseFrom(ours));
        Assert.Equal(ExecuteWire.Size(new ExecuteReplies(0, commands, replies, 2)), new ExecuteResponse { Replies = { generated.Replies.Take(2) } }.CalculateSize());
    }

    [Fact]
    public void Truncated_bytes_are_refused_as_malformed()
    {
        byte[] bytes = Mixed().ToByteArray();

        Assert.Throws<InvalidDataException>(() => ExecuteWire.Parse(bytes.AsSpan(0, bytes.Length - 3)));
    }
}
