using Desk.Domain;
using Desk.Web.Api;
using Desk.Web.Data;
using Desk.Web.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Desk.Web;

/// <summary>Builds the desk (the executable and the tests use the same code).</summary>
public static class DeskApp
{
    public const string AuthScheme = "Desk";
    public const string DefaultUrl = "http://127.0.0.1:5080";

    public static WebApplication Build(string[] args)
    {
        bool demo = args.Contains("--demo");
        // ApplicationName: the pages are found in this assembly also when a test host starts the desk in its process.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args.Where(a => a != "--demo").ToArray(),
            ApplicationName = typeof(DeskApp).Assembly.GetName().Name,
            // wwwroot (Chart.js, the cockpit's script) is copied beside the assembly, so a test host finds it too.
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        // Loopback only unless told otherwise (--urls or ASPNETCORE_URLS).
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
            builder.WebHost.UseUrls(DefaultUrl);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Services.Configure<DeskOptions>(builder.Configuration.GetSection("Desk"));
        builder.Services.PostConfigure<DeskOptions>(o => o.Demo |= demo);
        var desk = builder.Configuration.GetSection("Desk").Get<DeskOptions>() ?? new DeskOptions();
        AddDatabase(builder.Services, desk);

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => CalendarFor(desk.TimeZone));
        builder.Services.AddSingleton<EngineGateway>();
        builder.Services.AddSingleton<DeskIdentity>();
        builder.Services.AddSingleton<WriteBackSignal>();
        builder.Services.AddScoped<CustomerService>();
        builder.Services.AddScoped<ApplicationService>();
        builder.Services.AddScoped<ScoringService>();
        builder.Services.AddScoped<SegmentService>();
        builder.Services.AddScoped<RescoringService>();
        builder.Services.AddScoped<OutboxService>();
        builder.Services.AddScoped<IDelinquencyFeed, ProjectedDelinquencyFeed>();
        builder.Services.AddScoped<IDueFeed, ProjectedDueFeed>();
        builder.Services.AddScoped<CockpitService>();
        builder.Services.AddScoped<ReminderService>();
        builder.Services.AddScoped<CollectionsService>();
        builder.Services.AddHttpClient("outbox");
        builder.Services.AddSingleton<DeskJobs>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeskJobs>());
        if (desk.FollowEngine)
        {
            builder.Services.AddSingleton<EngineFollower>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<EngineFollower>());
        }

        // Pages, messages and exports in Simplified Chinese and English: the typed string table behind IStringLocalizer,
        // the culture from the user's stored language, else the browser's Accept-Language (zh → Chinese, else English).
        builder.Services.AddSingleton<Microsoft.Extensions.Localization.IStringLocalizerFactory, Localization.DeskTextLocalizerFactory>();
        builder.Services.AddLocalization();
        // Chinese text and ¥ go into pages as characters, not &#x…; entities (HTML-special characters are still encoded).
        builder.Services.AddSingleton(System.Text.Encodings.Web.HtmlEncoder.Create(System.Text.Unicode.UnicodeRanges.All));

        var authentication = builder.Services.AddAuthentication(AuthScheme);
        authentication
            .AddPolicyScheme(AuthScheme, "cookie or API key", o => o.ForwardDefaultSelector = ctx =>
                ctx.Request.Headers.ContainsKey(ApiKeyAuthentication.Header) ? ApiKeyAuthentication.SchemeName : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.AccessDeniedPath = "/denied";
                o.Cookie.Name = "desk";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.ExpireTimeSpan = TimeSpan.FromHours(10);
                o.SlidingExpiration = true;
                // The API answers 401/403; pages redirect to the sign-in page.
                o.Events.OnRedirectToLogin = ctx => Answer(ctx, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = ctx => Answer(ctx, StatusCodes.Status403Forbidden);
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        if (desk.Oidc.Enabled)
        {
            authentication.AddOpenIdConnect(OidcSignIn.Scheme, "OpenID Connect", o => OidcSignIn.Configure(o, desk.Oidc));
            // Unauthenticated pages go to the provider; /login stays for local users unless Desk:Oidc:LocalSignIn=false.
            builder.Services.PostConfigure<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme, o => o.LoginPath = "/login/oidc");
        }
        builder.Services.AddAuthorization(o =>
        {
            foreach (Permission p in Enum.GetValues<Permission>())
                o.AddPolicy(p.ToString(), policy => policy.RequireAuthenticatedUser().RequireRole(Permissions.RolesWith(p)));
            o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
        });
        builder.Services.AddRazorPages(o =>
        {
            o.Conventions.AllowAnonymousToPage("/Login");
            o.Conventions.AllowAnonymousToPage("/Denied");
            o.Conventions.AuthorizeFolder("/Admin", nameof(Permission.UsersManage));
            o.Conventions.AuthorizePage("/Policies", nameof(Permission.PoliciesWrite));
            o.Conventions.AuthorizePage("/Audit", nameof(Permission.AuditRead));
            o.Conventions.AuthorizePage("/Outbox", nameof(Permission.AuditRead));
        });
        builder.Services.AddMemoryCache();
        builder.Services.AddAntiforgery(o => o.HeaderName = "X-CSRF");
        builder.Services.AddOpenApi("v1");
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(o => o.MultipartBodyLengthLimit = desk.UploadBytesMax);

        var app = builder.Build();
        // Server-Timing (W3C): the time from receiving the request to the first byte of the response, for the browser's
        // developer tools and for the scale measurement in the tests (README "Credit desk").
        app.Use(async (ctx, next) =>
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            ctx.Response.OnStarting(() =>
            {
                double ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                ctx.Response.Headers["Server-Timing"] = $"app;dur={ms.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}";
                return Task.CompletedTask;
            });
            await next();
        });
        // Chart.js and the cockpit's script (wwwroot): static, public, before authentication.
        app.UseStaticFiles();
        app.UseAuthentication();
        var cultures = Localization.DeskText.Languages.Select(l => new System.Globalization.CultureInfo(l)).ToList();
        app.UseRequestLocalization(new RequestLocalizationOptions
        {
            DefaultRequestCulture = new Microsoft.AspNetCore.Localization.RequestCulture(Localization.DeskText.English),
            SupportedCultures = cultures,
            SupportedUICultures = cultures,
            RequestCultureProviders = [new Microsoft.AspNetCore.Localization.CustomRequestCultureProvider(Localization.DeskText.CultureOf)],
        });
        app.UseAuthorization();
        if (desk.Oidc.Enabled)
        {
            app.MapGet("/login/oidc", (HttpContext ctx, string? returnUrl) => Results.Challenge(
                new AuthenticationProperties { RedirectUri = returnUrl is { Length: > 0 } r && r.StartsWith('/') && !r.StartsWith("//") ? r : "/" },
                [OidcSignIn.Scheme])).AllowAnonymous();
            if (!desk.Oidc.LocalSignIn)
                app.Use(async (ctx, next) =>
                {
                    if (ctx.Request.Path.StartsWithSegments("/login") && !ctx.Request.Path.StartsWithSegments("/login/oidc")) { ctx.Response.Redirect("/login/oidc"); return; }
                    await next();
                });
        }
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapRazorPages();
        app.MapDeskApi();
        return app;
    }

    private static Task Answer(RedirectContext<CookieAuthenticationOptions> ctx, int status)
    {
        if (ctx.Request.Path.StartsWithSegments("/api")) { ctx.Response.StatusCode = status; return Task.CompletedTask; }
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    public static WorkingCalendar CalendarFor(string timeZoneId)
    {
        try { return new WorkingCalendar(TimeZoneInfo.FindSystemTimeZoneById(timeZoneId)); }
        catch (TimeZoneNotFoundException) { return WorkingCalendar.ChinaStandard(); }
    }

    private static void AddDatabase(IServiceCollection services, DeskOptions desk)
    {
        switch (desk.Database.ToLowerInvariant())
        {
            case "sqlite":
                string connection = desk.ConnectionString ?? $"Data Source={Path.Combine(desk.DataDirectory, "desk.db")}";
                Directory.CreateDirectory(desk.DataDirectory);
                services.AddDbContext<SqliteDeskDb>(o => o.UseSqlite(connection).AddInterceptors(SqliteTuning.Instance));
                services.AddScoped<DeskDb>(sp => sp.GetRequiredService<SqliteDeskDb>());
                break;
            case "postgres" or "postgresql":
                if (string.IsNullOrEmpty(desk.ConnectionString)) throw new InvalidOperationException("Desk:ConnectionString is required when Desk:Database is Postgres");
                services.AddDbContext<PostgresDeskDb>(o => o.UseNpgsql(desk.ConnectionString));
                services.AddScoped<DeskDb>(sp => sp.GetRequiredService<PostgresDeskDb>());
                break;
            default:
                throw new InvalidOperationException($"Desk:Database: '{desk.Database}' is not Sqlite or Postgres");
        }
    }

    /// <summary>Migrates, bootstraps (printing the first admin's one-time password), fills the demo if asked, then runs.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var app = Build(args);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Desk");
        string? password = await Bootstrap.RunAsync(app.Services, log);
        if (password is not null)
        {
            // Printed once, on the console of the first start only; the admin must change it at first sign-in.
            Console.WriteLine($"First start: sign in as '{Bootstrap.AdminUserName}' with the one-time password: {password}");
        }
        if (app.Services.GetRequiredService<IOptions<DeskOptions>>().Value.Demo) await Demo.FillAsync(app.Services, log);
        await app.RunAsync();
        return 0;
    }
}
