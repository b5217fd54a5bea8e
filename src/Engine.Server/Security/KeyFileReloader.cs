namespace Engine.Server.Security;

/// <summary>
/// Logs the access mode at start (a warning when the server runs open) and, when <c>Access:KeyFile</c> is set,
/// checks the file every <c>Access:KeyFileReloadIntervalMs</c> and swaps in the new keys when it changed.
/// </summary>
internal sealed class KeyFileReloader(ApiKeyStore store, AccessStartupReport report, ILogger<KeyFileReloader> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (!report.KeysConfigured)
        {
            logger.LogWarning("access control is OFF: no API keys are configured, so every caller may do everything (allowed only because the server listens on loopback: {Urls}). "
                + "Configure Access:Principals or Access:KeyFile before exposing it; see README \"Access control\"", string.Join(", ", report.Urls));
        }
        else
        {
            PrincipalSet current = store.Current;
            logger.LogInformation("access control: {Principals} principals, {Keys} API keys, {Certificates} client certificate mappings{KeyFile}; TLS {Tls}, client certificates {ClientCertificates}",
                current.Principals.Count, current.KeyCount, current.CertificateMappingCount,
                store.Options.KeyFile.Length > 0 ? $", key file {store.Options.KeyFile} checked every {store.Options.KeyFileReloadIntervalMs} ms" : "",
                report.Tls.Enabled ? "on" : "off", report.Tls.ClientCertificates);
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store.Options.KeyFile.Length == 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(store.Options.KeyFileReloadIntervalMs));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                (bool changed, string? error) = store.Reload();
                if (error is not null) logger.LogError("access control: key file {Error}", error);
                if (changed)
                {
                    PrincipalSet current = store.Current;
                    logger.LogInformation("access control: reloaded {KeyFile}: {Principals} principals, {Keys} API keys", store.Options.KeyFile, current.Principals.Count, current.KeyCount);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }
}
