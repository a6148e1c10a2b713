package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/console"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/server"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store/sqlstore"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/verify"
)

// repeated collects a repeatable flag.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	env := &envReader{}
	listen := fs.String("listen", envOr("MODELKEYS_LISTEN", "127.0.0.1:8080"), "address to listen on (env MODELKEYS_LISTEN)")
	dsn := dbFlag(fs)
	var mk masterKeyOptions
	mk.register(fs)
	fs.BoolVar(&mk.dev, "dev", env.Bool("MODELKEYS_DEV", false), "create a master key file beside the SQLite database if there is none (local use only; env MODELKEYS_DEV)")
	tlsCert := fs.String("tls-cert", envOr("MODELKEYS_TLS_CERT", ""), "TLS certificate file (env MODELKEYS_TLS_CERT)")
	tlsKey := fs.String("tls-key", envOr("MODELKEYS_TLS_KEY", ""), "TLS private key file (env MODELKEYS_TLS_KEY)")
	allowReveal := fs.Bool("allow-reveal", env.Bool("MODELKEYS_ALLOW_REVEAL", false), "let admin tokens read decrypted secrets through /v1/credentials/{id}/reveal (env MODELKEYS_ALLOW_REVEAL)")
	maxCreds := fs.Int("max-credentials", env.Int("MODELKEYS_MAX_CREDENTIALS", service.DefaultLimits().MaxCredentialsPerOrg), "credentials allowed per organisation (env MODELKEYS_MAX_CREDENTIALS)")
	onePer := fs.String("one-credential-per-provider", envOr("MODELKEYS_ONE_CREDENTIAL_PER_PROVIDER", ""), "comma-separated providers an organisation may hold only one credential of (env MODELKEYS_ONE_CREDENTIAL_PER_PROVIDER)")
	rps := fs.Float64("rate-limit", env.Float("MODELKEYS_RATE_LIMIT", 0), "requests per second allowed per token, 0 for no limit (env MODELKEYS_RATE_LIMIT)")
	authFailures := fs.Int("auth-failure-limit", env.Int("MODELKEYS_AUTH_FAILURE_LIMIT", service.DefaultLimits().AuthFailures), "failed authentications allowed per client address before its requests, valid tokens included, get 429 without a database read; 0 for no limit (env MODELKEYS_AUTH_FAILURE_LIMIT)")
	authRefill := fs.Float64("auth-failure-refill", env.Float("MODELKEYS_AUTH_FAILURE_REFILL", service.DefaultLimits().AuthFailureRefill), "failed authentications per second an address earns back under --auth-failure-limit (env MODELKEYS_AUTH_FAILURE_REFILL)")
	logLevel := fs.String("log-level", envOr("MODELKEYS_LOG_LEVEL", "info"), "debug, info, warn or error (env MODELKEYS_LOG_LEVEL)")
	var baseURLs repeated
	fs.Var(&baseURLs, "provider-base-url", "PROVIDER=URL overriding a provider's base URL for verification and model lists, repeatable (env MODELKEYS_PROVIDER_BASE_URLS=openai=URL,anthropic=URL; the flag wins). The URL's host and port are trusted by the egress policy, whatever they resolve to. azure_entra=URL replaces the Microsoft Entra ID authority (https://login.microsoftonline.com) of Azure credentials with auth_method entra_id or workload_identity, and gcp_iamcredentials=URL Google's IAM Credentials API (https://iamcredentials.googleapis.com) that keyless Vertex AI credentials impersonate through. A keyless credential's token_url may name only the vendor's token host or one of these")
	var egressAllow repeated
	fs.Var(&egressAllow, "egress-allow", "CIDR range the server may send keys to although the egress policy refuses it, repeatable (env MODELKEYS_EGRESS_ALLOW=10.0.0.0/8,fd00::/8; the flag wins). "+
		"Verification, model lists and token exchanges refuse, after DNS, loopback (127.0.0.0/8, ::1), private (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7), shared (100.64.0.0/10), "+
		"link-local (169.254.0.0/16 with cloud metadata, fe80::/10), unspecified, multicast and broadcast addresses unless a range here holds them; e.g. --egress-allow 10.20.0.0/16 for an in-house model gateway")
	verifyTimeout := fs.Duration("verify-timeout", env.Duration("MODELKEYS_VERIFY_TIMEOUT", verify.DefaultTimeout), "how long one provider probe may take (env MODELKEYS_VERIFY_TIMEOUT)")
	reverifyInterval := fs.Duration("reverify-interval", env.Duration("MODELKEYS_REVERIFY_INTERVAL", 24*time.Hour), "how often every credential is checked again at its provider and lifecycle transitions are audited, 0 to turn both off (env MODELKEYS_REVERIFY_INTERVAL)")
	var pool sqlstore.PostgresOptions
	fs.IntVar(&pool.MaxOpenConns, "db-max-open-conns", env.Int("MODELKEYS_DB_MAX_OPEN_CONNS", 0), "PostgreSQL: most connections this replica opens, 0 for the default of 20 (env MODELKEYS_DB_MAX_OPEN_CONNS)")
	fs.IntVar(&pool.MaxIdleConns, "db-max-idle-conns", env.Int("MODELKEYS_DB_MAX_IDLE_CONNS", 0), "PostgreSQL: most idle connections kept, 0 for as many as --db-max-open-conns (env MODELKEYS_DB_MAX_IDLE_CONNS)")
	fs.DurationVar(&pool.ConnMaxLifetime, "db-conn-max-lifetime", env.Duration("MODELKEYS_DB_CONN_MAX_LIFETIME", 0), "PostgreSQL: replace a connection after this long, 0 for the default of 30m (env MODELKEYS_DB_CONN_MAX_LIFETIME)")
	tokenTTL := fs.Duration("token-cache-ttl", env.Duration("MODELKEYS_TOKEN_CACHE_TTL", 2*time.Second), "trust a valid token this long before reading it from the database again; a revoked token stops working within this time; 0 turns the cache off (env MODELKEYS_TOKEN_CACHE_TTL)")
	pprofListen := fs.String("pprof-listen", envOr("MODELKEYS_PPROF_LISTEN", ""), "serve net/http/pprof on this separate address, e.g. 127.0.0.1:6060 (profiling only; off by default; env MODELKEYS_PPROF_LISTEN)")
	metricsListen := fs.String("metrics-listen", envOr("MODELKEYS_METRICS_LISTEN", ""), "serve GET /metrics on this separate address without authentication, for Prometheus on a private network, e.g. 10.0.0.5:9090 (env MODELKEYS_METRICS_LISTEN)")
	metricsToken := fs.String("metrics-token", envOr("MODELKEYS_METRICS_TOKEN", ""), fmt.Sprintf("serve GET /metrics on --listen too, to requests sending this token as Authorization: Bearer (at least %d characters; prefer the env variable, which ps does not show; env MODELKEYS_METRICS_TOKEN). The metrics count every organisation, so no API token opens them", server.MinMetricsTokenLength))
	issuerURL := fs.String("issuer-url", envOr("MODELKEYS_ISSUER_URL", ""), "make this server an OpenID issuer at this public base URL (https; plain http only for a loopback host), serving /.well-known/openid-configuration and /.well-known/jwks.json, so vendors can trust its assertions for keyless credentials (env MODELKEYS_ISSUER_URL)")
	ui := fs.Bool("ui", env.Bool("MODELKEYS_UI", true), "serve the web console under /ui/ (env MODELKEYS_UI)")
	uiSecure := fs.Bool("ui-secure-cookies", env.Bool("MODELKEYS_UI_SECURE_COOKIES", false), "mark the console's cookies Secure on plain HTTP too, behind a TLS-terminating proxy; over --tls-cert they always are (env MODELKEYS_UI_SECURE_COOKIES)")
	uiTokenSignIn := fs.Bool("console-token-signin", env.Bool("MODELKEYS_CONSOLE_TOKEN_SIGNIN", true), "let people sign in to the console with an API token (break-glass); false leaves only single sign-on with the organisations' identity providers (env MODELKEYS_CONSOLE_TOKEN_SIGNIN)")
	uiSSOList := fs.Bool("console-sso-list", env.Bool("MODELKEYS_CONSOLE_SSO_LIST", true), "list the identity providers people can sign in with on the console's sign-in page; false on a server shared by organisations that must not see each other's (the link /ui/login/oidc/{identity_provider_id} still works; env MODELKEYS_CONSOLE_SSO_LIST)")
	uiPublicURL := fs.String("console-public-url", envOr("MODELKEYS_CONSOLE_PUBLIC_URL", ""), "the console's external base URL, e.g. https://keys.example.com, from which the single sign-on callback (URL/ui/login/oidc/callback, registered at the identity provider) is made; default: the request's own scheme and host (env MODELKEYS_CONSOLE_PUBLIC_URL)")
	shutdownGrace := fs.Duration("shutdown-timeout", env.Duration("MODELKEYS_SHUTDOWN_TIMEOUT", 15*time.Second), "how long to let requests finish on SIGTERM (env MODELKEYS_SHUTDOWN_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	dbWait := env.Duration("MODELKEYS_DB_WAIT", 30*time.Second)
	if err := env.err(); err != nil {
		return err
	}
	mk.markFlags(fs)
	if pool.MaxOpenConns < 0 || pool.MaxIdleConns < 0 || pool.ConnMaxLifetime < 0 {
		return usageError{"--db-max-open-conns, --db-max-idle-conns and --db-conn-max-lifetime cannot be negative"}
	}
	if *authFailures < 0 || *authRefill <= 0 {
		return usageError{"--auth-failure-limit must be 0 (no limit) or more, and --auth-failure-refill above 0"}
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError{"--tls-cert and --tls-key go together"}
	}
	if *issuerURL != "" {
		u, err := issuer.ValidateURL(*issuerURL)
		if err != nil {
			return usageError{"--issuer-url (MODELKEYS_ISSUER_URL): " + err.Error()}
		}
		*issuerURL = u
	}
	if *metricsToken != "" && len(*metricsToken) < server.MinMetricsTokenLength {
		return usageError{fmt.Sprintf("--metrics-token (MODELKEYS_METRICS_TOKEN) has %d characters; use at least %d, e.g. the output of: head -c 32 /dev/urandom | base64", len(*metricsToken), server.MinMetricsTokenLength)}
	}

	providerURLs, err := verify.ParseBaseURLs(os.Getenv("MODELKEYS_PROVIDER_BASE_URLS"))
	if err != nil {
		return usageError{"MODELKEYS_PROVIDER_BASE_URLS: " + err.Error()}
	}
	for _, entry := range baseURLs {
		one, err := verify.ParseBaseURLs(entry)
		if err != nil {
			return usageError{"--provider-base-url: " + err.Error()}
		}
		maps.Copy(providerURLs, one)
	}

	egressSpec, egressSource := os.Getenv("MODELKEYS_EGRESS_ALLOW"), "MODELKEYS_EGRESS_ALLOW"
	if len(egressAllow) > 0 {
		egressSpec, egressSource = strings.Join(egressAllow, ","), "--egress-allow"
	}
	egressRanges, err := verify.ParseEgressAllow(egressSpec)
	if err != nil {
		return usageError{egressSource + ": " + err.Error()}
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level: %v", err)}
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	key, keySource, created, err := mk.load(*dsn)
	if err != nil {
		return err
	}
	if created {
		logger.Warn("created a new master key file for development; back it up, since secrets cannot be decrypted without it, and use MODELKEYS_MASTER_KEY or --master-key-file in production", "path", keySource)
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		return err
	}
	st, err := openStoreWithRetry(ctx, *dsn, pool, dbWait, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	limits := service.DefaultLimits()
	limits.MaxCredentialsPerOrg = *maxCreds
	limits.RequestsPerSecond = *rps
	limits.AuthFailures, limits.AuthFailureRefill = *authFailures, *authRefill
	if *onePer != "" {
		limits.OnePerProvider = strings.Split(*onePer, ",")
	}
	srv, err := server.New(ctx, service.Config{
		Store: st, Keyring: ring, Logger: logger, Limits: limits, AllowReveal: *allowReveal, Version: version, TokenCacheTTL: *tokenTTL, IssuerURL: *issuerURL,
		Verifier: verify.New(verify.Options{BaseURLs: providerURLs, Timeout: *verifyTimeout, Egress: verify.ServerEgress(egressRanges)}),
		// Identity providers' issuers (loopback http only where opened) and their key fetches.
		Egress: verify.ServerEgress(egressRanges),
	})
	if err != nil {
		return err
	}
	srv.SetMetricsToken(*metricsToken)
	if *ui {
		if err := console.CheckPublicURL(*uiPublicURL); err != nil {
			return usageError{"--console-public-url: " + err.Error()}
		}
		srv.Mount(console.Prefix, console.New(srv, console.Options{SecureCookies: *uiSecure, NoTokenSignIn: !*uiTokenSignIn,
			SSO: console.SSOOptions{HideProviders: !*uiSSOList, PublicURL: *uiPublicURL, HTTPClient: verify.ServerEgress(egressRanges).HTTPClient(15 * time.Second)}}))
	}
	// One re-verifier per process; with several replicas on one PostgreSQL database an advisory lock
	// lets one of them run each pass (on SQLite the lock is always granted).
	var reverifyLock service.ReverifyLock
	if ll, ok := st.(store.LeaderLocker); ok {
		reverifyLock = func(ctx context.Context) (func(), bool, error) { return ll.TryLeaderLock(ctx, "reverify") }
	}
	go srv.Service().RunReverifier(ctx, *reverifyInterval, reverifyLock)
	// Managed rotations: each journal row is leased, so every replica may sweep; one at a time spares the database.
	var rotationLock service.ReverifyLock
	if ll, ok := st.(store.LeaderLocker); ok {
		rotationLock = func(ctx context.Context) (func(), bool, error) { return ll.TryLeaderLock(ctx, "rotations") }
	}
	go srv.Service().RunRotations(ctx, service.DefaultRotationSweepInterval, rotationLock)
	if boot := os.Getenv("MODELKEYS_BOOTSTRAP_TOKEN"); boot != "" {
		if err := service.EnsureToken(ctx, st, "default", "admin", "bootstrap", boot, time.Now()); err != nil {
			return fmt.Errorf("MODELKEYS_BOOTSTRAP_TOKEN: %w", err)
		}
	}

	if *pprofListen != "" {
		if err := servePprof(*pprofListen, logger); err != nil {
			return err
		}
	}

	if *metricsListen != "" {
		if err := serveMetrics(ctx, *metricsListen, srv.MetricsHandler(), logger); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
		// Load the pair now, so that a wrong path or a mismatched key stops the start with a clear error
		// instead of after the "listening" line.
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	logger.Info("modelkeys-server listening", "url", scheme+"://"+ln.Addr().String(), "database", st.Dialect(), "master_key", secrets.KeyID(key), "master_key_source", keySource, "version", version,
		"egress_allow", fmt.Sprint(egressRanges), "console", *ui, "issuer", *issuerURL)

	errc := make(chan error, 1)
	go func() {
		if *tlsCert != "" {
			errc <- hs.ServeTLS(ln, "", "") // the certificate is in TLSConfig
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: letting requests in flight finish", "timeout", shutdownGrace.String())
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openStoreWithRetry waits a bounded time for the database: a server and its database often start
// together, and the database may need a few seconds before it accepts connections.
// MODELKEYS_DB_WAIT bounds the wait (default 30s).
func openStoreWithRetry(ctx context.Context, dsn string, pool sqlstore.PostgresOptions, wait time.Duration, logger *slog.Logger) (store.Store, error) {
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		st, err := openStoreWith(ctx, dsn, pool)
		if err == nil || !isPostgres(dsn) || errors.Is(err, store.ErrSchemaTooNew) {
			return st, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("the database did not answer within %s (%d attempts; raise MODELKEYS_DB_WAIT to wait longer): %w", wait, attempt, err)
		}
		logger.Warn("database not reachable yet; retrying", "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(min(time.Duration(min(attempt, 5))*time.Second, left)):
		}
	}
}
