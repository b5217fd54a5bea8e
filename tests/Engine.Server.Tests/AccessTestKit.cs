using Engine.Server.Security;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Engine.Server.Tests;

/// <summary>A principal of a test server: its name, its plain key (the server gets only the hash) and its roles.</summary>
public sealed record TestPrincipal(string Name, string Key, params string[] Roles)
{
    public static TestPrincipal Create(string name, params string[] roles) => new(name, ApiKeyHash.NewKey(), roles);

    /// <summary>The server arguments that define this principal (its key as a SHA-256 hash).</summary>
    public IEnumerable<string> Arguments()
    {
        yield return $"--Access:Principals:{Name}:Roles={string.Join(',', Roles)}";
        yield return $"--Access:Principals:{Name}:KeyHashes={ApiKeyHash.Of(Key)}";
    }

    public Metadata Headers => new() { { "authorization", "Bearer " + Key } };

    public CallOptions Call(double seconds = 10) => new(Headers, DateTime.UtcNow.AddSeconds(seconds));
}

/// <summary>Calls any RPC from its descriptor alone (no generated client), so one test can reach every method of every service.</summary>
public static class AnyCall
{
    /// <summary>Calls <paramref name="method"/> with <paramref name="request"/>; returns OK or the call's status (a stream: OK once its first message arrived).</summary>
    public static async Task<Status> InvokeAsync(CallInvoker invoker, MethodDescriptor method, IMessage request, CallOptions options)
    {
        MethodType type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        var call = new Method<IMessage, IMessage>(type, method.Service.FullName, method.Name, MarshallerOf(method.InputType), MarshallerOf(method.OutputType));
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(call, null, options, request).ResponseAsync;
                    break;
                case MethodType.ServerStreaming:
                    using (AsyncServerStreamingCall<IMessage> streaming = invoker.AsyncServerStreamingCall(call, null, options, request))
                        await streaming.ResponseStream.MoveNext();
                    break;
                case MethodType.ClientStreaming:
                    using (AsyncClientStreamingCall<IMessage, IMessage> uploading = invoker.AsyncClientStreamingCall(call, null, options))
                    {
                        await WriteAllowingRefusalAsync(uploading.RequestStream, request);
                        await uploading.ResponseAsync;
                    }
                    break;
                default:
                    using (AsyncDuplexStreamingCall<IMessage, IMessage> duplex = invoker.AsyncDuplexStreamingCall(call, null, options))
                    {
                        await WriteAllowingRefusalAsync(duplex.RequestStream, request);
                        await duplex.ResponseStream.MoveNext();
                    }
                    break;
            }
            return Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            return e.Status;
        }
    }

    /// <summary>The message parsed from <paramref name="example"/>'s bytes as <paramref name="method"/>'s request type (empty when null).</summary>
    public static IMessage Request(MethodDescriptor method, IMessage? example = null) =>
        method.InputType.Parser.ParseFrom(example?.ToByteString() ?? ByteString.Empty);

    // The server may end the call before the request is written (a refusal); the status then comes from the read.
    private static async Task WriteAllowingRefusalAsync(IClientStreamWriter<IMessage> writer, IMessage request)
    {
        try
        {
            await writer.WriteAsync(request);
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
        }
    }

    private static Marshaller<IMessage> MarshallerOf(MessageDescriptor type) =>
        Marshallers.Create<IMessage>(message => message.ToByteArray(), bytes => type.Parser.ParseFrom(bytes));
}
