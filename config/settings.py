"""Typed settings, read once from the environment (FXP_* variables)."""

from __future__ import annotations

import difflib
import os
from functools import lru_cache
from typing import Any

import msgspec


class DatabaseSettings(msgspec.Struct, frozen=True):
    url: str = ""  # empty: the run/test commands start an embedded PostgreSQL and set it
    pool_min: int = 2
    pool_max: int = 20
    lock_timeout_ms: int = 5000  # a request waiting longer on a row/key lock gets 409
    # At shutdown, how long the pool waits for connections still checked out (a request or
    # task still running) before closing them hard: a stop never hangs on one.
    close_timeout_s: float = 10.0
    # Behind PgBouncer in transaction mode: no named prepared statements (asyncpg's statement
    # cache off) and no session settings at connect (set lock_timeout on the role instead:
    # ALTER ROLE ... SET lock_timeout = '5s'). See README "Connection budget".
    pgbouncer: bool = False


class RedisSettings(msgspec.Struct, frozen=True):
    url: str = ""


class ApiSettings(msgspec.Struct, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how providers reach us for callbacks; defaults to http://host:port
    max_body_bytes: int = 64 * 1024
    idempotency_ttl_s: int = 24 * 3600
    admin_api_key: str = ""  # empty: only admin users' JWTs open the admin endpoints (make run makes one)
    # GET /metrics: bearer token, or public (both unset: not served on the API port);
    # metrics_port > 0 serves them on that port as well.
    metrics_token: str = ""
    metrics_public: bool = False
    metrics_port: int = 0
    # Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; empty
    # (the default): the TCP peer is the client, whatever the header says.
    trusted_proxies: str = ""
    # Provider callbacks accepted only from these sources, per provider (optional; space-
    # separated "provider=CIDR,CIDR", e.g. "stripe=3.18.12.63/32,3.130.192.231/32").
    callback_allowlist: str = ""
    # HTTPS: both set, the server (granian) serves TLS and answers carry Strict-Transport-Security.
    tls_cert_file: str = ""
    tls_key_file: str = ""  # PKCS#8 PEM
    hsts_max_age_s: int = 31_536_000
    # CORS: comma-separated allowed origins; empty (the default): no CORS headers at all.
    cors_origins: str = ""

    @property
    def tls(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)

    def callback_sources(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in self.callback_allowlist.split() if "=" in part)


class PaymentSettings(msgspec.Struct, frozen=True):
    max_amount_minor: int = 100_000_000
    max_attempts: int = 3
    dispatch: str = "inline"  # "inline": in-process after commit; "outbox": workers
    pending_timeout_s: float = 60.0
    give_up_after_s: float = 3600.0
    # A failed refund is asked again after each of these delays (seconds), then it is
    # FAILED and listed for operators (GET /admin/refunds?status=FAILED).
    refund_retry_schedule: str = "10,60,300,1800,7200,21600"

    @property
    def refund_retry_delays_s(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.refund_retry_schedule.split(",") if part.strip())


class ProvidersSettings(msgspec.Struct, frozen=True):
    """Each provider's own settings, as the adapter's settings struct takes them; a
    provider with no settings is not offered (the sandbox always is)."""

    sandbox: dict[str, Any] = {}  # base_url, callback_secret, timeout_s ...
    stripe: dict[str, Any] = {}  # secret_key, webhook_secrets (comma-separated), ...
    paypal: dict[str, Any] = {}  # client_id, client_secret, webhook_id, ...
    card: dict[str, Any] = {}  # api_key, webhook_secrets, api_base, ...


class InventorySettings(msgspec.Struct, frozen=True):
    """Catalog orders: stock reservations, per-order limits, delivery estimates."""

    reservation_ttl_s: float = 900.0  # stock held for a payment not settled by then goes back
    max_units_per_sku: int = 1000  # per order, lines on one sku summed
    shipping_business_days: int = 3  # added to the slowest product's lead time


class VaultSettings(msgspec.Struct, frozen=True):
    # "v1:<base64 32 bytes>,v2:<...>": versioned AES-GCM keys; the last one encrypts.
    keys: str = ""
    card_cache_ttl_s: int = 900
    cvc_ttl_s: int = 600  # a saved card's CVC: until its next payment or this long
    # base64, >= 32 bytes: the HMAC key of card fingerprints; empty: derived from the first vault key
    fingerprint_key: str = ""


class AuthSettings(msgspec.Struct, frozen=True):
    """Users: Argon2id cost, JWT access tokens, refresh tokens, login throttling."""

    jwt_secret: str = ""  # >= 32 bytes; empty (dev, tests): a process-local one
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 86400
    # OWASP's Argon2id minimum (19 MiB, t=2, p=1); FXP_ENV=test swaps in a cheap cost.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    throttle_free_per_address: int = 20
    throttle_free_per_account: int = 5
    throttle_base_delay_s: float = 1.0
    throttle_max_delay_s: float = 900.0
    throttle_window_s: float = 900.0


class WorkerSettings(msgspec.Struct, frozen=True):
    """Dramatiq workers, the outbox relay, the periodic jobs and merchant webhooks."""

    broker: str = "redis"  # "redis" (FXP_REDIS_URL) or "rabbitmq"
    rabbitmq_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    namespace: str = "dramatiq"  # Redis key prefix: dead letters live in <namespace>:<queue>.XQ
    max_retries: int = 8
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 600_000
    time_limit_ms: int = 120_000  # an actor running longer is interrupted (and retried)
    max_age_ms: int = 86_400_000  # a message older than this is dropped, not run
    # How long an idle Redis consumer may sleep between polls (and a worker thread between
    # looks at its work queue); 0: 1 s with queue wake-ups on Redis, else 200 ms. With the
    # wake-ups a send ends that sleep at once and the poll is only the fallback for a lost
    # wake-up or a message put back from a dead worker: 1 s keeps the idle pool's polling
    # at a fifth of what 200 ms cost. Without them it is every queue hop's latency.
    idle_poll_ms: int = 0
    # Redis: each send PUBLISHes a wake-up that ends an idle consumer's sleep at once
    # (app/adapters/queue/redis_wakeup.py); false: consumers only poll (a Redis without pub/sub).
    queue_wakeups: bool = True
    # Dramatiq worker threads per worker process (`app.workers.main --threads` overrides).
    # The actors are async and share one event loop per process: a thread only waits for
    # its coroutine, and the threads bound how many runs the loop interleaves. Measured
    # (benchmarks, workers.throughput): 2 threads cost 40% more CPU per run than 8, 32
    # more idle wake-ups; 8-16 were the cheapest.
    threads: int = 8
    # Messages held by a worker that died go back to their queue once its heartbeat is this
    # old, at the next queue maintenance (run on this many broker commands per million).
    redis_heartbeat_timeout_ms: int = 60_000
    redis_maintenance_chance: int = 1_000
    prometheus: bool = False  # dramatiq's Prometheus middleware (exposition on :9191)
    # Our metrics, one scrape target per worker process: the first free port from this
    # one (0: off); see app/workers/metrics.py.
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    relay_interval_s: float = 0.2
    relay_batch_size: int = 500
    reconcile_interval_s: float = 10.0
    purge_interval_s: float = 3600.0
    # Every `app.workers.main` runs a scheduler; only the holder of a PostgreSQL advisory
    # lock sends ticks. The lock's connection must reach PostgreSQL directly (or a
    # session-mode pool), never PgBouncer in transaction mode: set this URL then.
    leader_election: bool = True
    leader_database_url: str = ""  # empty: database.url
    standby_retry_s: float = 1.0  # how often a standby scheduler asks for the lock
    # The leader LISTENs for outbox commits (NOTIFY fxp_outbox) and relays them at once in
    # its own process while its local worker pool is up (until then events wait in
    # PostgreSQL); the periodic relay tick stays as the fallback.
    relay_on_commit: bool = True
    # The relay on commit starts a round at most this often: under load the commits of the
    # interval share one round (transaction, broker batch); an idle relay still runs at once.
    relay_on_commit_min_interval_ms: int = 15
    relay_fallback_interval_s: float = 1.0  # the periodic relay tick while relay_on_commit is on
    # Liveness/readiness HTTP probes of the worker main process (/live, /ready); 0: off.
    probe_host: str = "127.0.0.1"  # a container sets 0.0.0.0 for the kubelet
    probe_port: int = 0
    # Set by the worker main process for its pool: each worker process beats a file here
    # from its event loop (app/workers/probes.py).
    heartbeat_dir: str = ""
    heartbeat_s: float = 2.0
    heartbeat_stale_s: float = 60.0  # a worker whose beat is older is not live
    # Merchant webhook retry delays in seconds (Standard Webhooks style: seconds to a day).
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,86400"
    webhook_timeout_s: float = 10.0
    # Non-public webhook targets are refused unless named here: comma-separated CIDRs
    # ("10.1.2.0/24") and/or host:port entries ("127.0.0.1:8200", "hooks.internal:443").
    webhook_allowlist: str = ""
    # A webhook wake-up not acted on this long after it was sent is presumed lost (Redis
    # restarted empty, a worker killed mid-send) and is sent again from PostgreSQL.
    webhook_lease_s: float = 60.0

    @property
    def effective_idle_poll_ms(self) -> int:
        if self.idle_poll_ms > 0:
            return self.idle_poll_ms
        return 1000 if self.queue_wakeups and self.broker.lower() == "redis" else 200

    @property
    def webhook_retry_delays_s(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.webhook_retry_schedule.split(",") if part.strip())


class FraudSettings(msgspec.Struct, frozen=True):
    """Fraud rules before dispatch (rules themselves are per merchant, via the admin API)."""

    enabled: bool = True  # card fingerprints are the vault's (FXP_VAULT__FINGERPRINT_KEY)
    review_deadline_s: float = 900.0  # held attempts still open after this are rejected


class RateLimitSettings(msgspec.Struct, frozen=True):
    """Requests per route group, counted in Redis (shared by all API processes) separately
    per credential (API key or user token) and per client IP. Limits in the `limits`
    notation ("100/second;2000/minute")."""

    enabled: bool = True
    default: str = "100/second;3000/minute"
    # Per route group overrides, space-separated: "payments=20/second orders=50/second;1000/minute".
    groups: str = ""
    # Groups never limited: liveness/readiness/metrics, and provider callbacks (providers
    # retry on refusal, and their signature is what protects the route).
    exempt: str = "health callbacks"

    def group_limits(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in self.groups.split() if "=" in part)


class MerchantSettings(msgspec.Struct, frozen=True):
    """Credential rotation (admin API, `fusionxpay merchants rotate-*`)."""

    api_key_grace_s: float = 86_400.0  # a rotated API key keeps working this long, then 401
    webhook_secret_overlap_s: float = 86_400.0  # both secrets sign webhooks this long


class AuditSettings(msgspec.Struct, frozen=True):
    """FXP_AUDIT__*: the audit trail (audit_log)."""

    enabled: bool = True  # off only to measure its cost (benchmarks)


class TelemetrySettings(msgspec.Struct, frozen=True):
    """FXP_TELEMETRY__*: OpenTelemetry tracing (off by default)."""

    enabled: bool = False
    # OTLP over HTTP; empty: the exporter's own default (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    # else http://localhost:4318/v1/traces)
    otlp_endpoint: str = ""
    service_name: str = "fusionxpay"


class NotificationSettings(msgspec.Struct, frozen=True):
    """Shopper email (SMTP) and SMS (a Twilio-shaped REST API). A channel with no server
    configured is not used; `make run` points both at local sinks (app/entrypoints/dev_sinks.py)."""

    smtp_host: str = ""  # empty: no email
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "starttls"  # "starttls", "tls" (implicit, port 465) or "none"
    smtp_timeout_s: float = 10.0
    mail_from: str = "FusionXPay <no-reply@fusionxpay.local>"
    sms_base_url: str = "https://api.twilio.com"
    sms_account_sid: str = ""  # empty: no SMS
    sms_auth_token: str = ""
    sms_from: str = ""  # E.164 sender number
    sms_timeout_s: float = 10.0
    # Delays (seconds) before attempt 2, 3, ...; then the delivery is dead (dead letters).
    retry_schedule: str = "10,60,300,1800,7200,21600"
    max_retry_after_s: float = 86_400.0  # a provider's Retry-After is honoured up to this
    lease_s: float = 60.0  # a wake-up not acted on this long after it was sent is sent again
    # An email whose send was cut off after the server may have accepted it (SMTP cannot be
    # asked): "resend" (same Message-ID, receivers can drop the copy: at least once) or
    # "hold" (dead, an operator decides: at most once). SMS is looked up at the provider.
    in_doubt_email: str = "resend"

    @property
    def retry_delays_s(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.retry_schedule.split(",") if part.strip())


class Settings(msgspec.Struct, frozen=True):
    env: str = "dev"
    log_level: str = "INFO"
    data_dir: str = ".fusionxpay"
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    api: ApiSettings = ApiSettings()
    payments: PaymentSettings = PaymentSettings()
    workers: WorkerSettings = WorkerSettings()
    providers: ProvidersSettings = ProvidersSettings()
    vault: VaultSettings = VaultSettings()
    inventory: InventorySettings = InventorySettings()
    fraud: FraudSettings = FraudSettings()
    auth: AuthSettings = AuthSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    merchants: MerchantSettings = MerchantSettings()
    audit: AuditSettings = AuditSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    notifications: NotificationSettings = NotificationSettings()

    @property
    def public_url(self) -> str:
        scheme = "https" if self.api.tls else "http"
        return self.api.public_url or f"{scheme}://{self.api.host}:{self.api.port}"


# Flat FXP_* names for the fields people set most; anything else: FXP_<GROUP>__<FIELD>.
ALIASES = {
    "FXP_DATABASE_URL": ("database", "url"),
    "FXP_REDIS_URL": ("redis", "url"),
    "FXP_PORT": ("api", "port"),
    "FXP_HOST": ("api", "host"),
    "FXP_PUBLIC_URL": ("api", "public_url"),
    "FXP_ADMIN_API_KEY": ("api", "admin_api_key"),
    "FXP_DATA_DIR": ("data_dir",),
    "FXP_LOG_LEVEL": ("log_level",),
    "FXP_ENV": ("env",),
    "FXP_JWT_SECRET": ("auth", "jwt_secret"),
}


# FXP_ variables read outside Settings (by the run command and the deployment scripts),
# and the test suite's knobs: known, so not refused as misspellings.
OTHER_VARIABLES = {
    "FXP_SANDBOX_PORT": "the sandbox gateway's port under `fusionxpay run` (8100)",
    "FXP_DEV_RECEIVER_PORT": "the dev webhook receiver's port under `fusionxpay run` (8200)",
    "FXP_DEV_SMTP_PORT": "the local email sink's SMTP port under `fusionxpay run`",
    "FXP_DEV_SINKS_PORT": "the local email/SMS sinks' HTTP port under `fusionxpay run`",
    "FXP_MIGRATE_ON_START": "deploy/docker-entrypoint.sh: 0 leaves migrations to the migrate job",
    "FXP_HYPOTHESIS_PROFILE": "tests: the model-based test's Hypothesis profile (ci, long)",
    "FXP_KEEP_RUNS": "tests: keep the crash tests' server folders",
}


class SettingsError(ValueError):
    """A setting that cannot be used, named by its environment variable."""


def _variable_path(name: str) -> tuple[str, ...] | None:
    """The Settings field an FXP_ variable sets; None when it sets none (a misspelling)."""
    if name in ALIASES:
        return ALIASES[name]
    if not name.startswith("FXP_") or "__" not in name:
        return None
    path = tuple(part.lower() for part in name[4:].split("__"))
    struct: Any = Settings
    for depth, part in enumerate(path):
        fields = {field.name: field.type for field in msgspec.structs.fields(struct)}
        if part not in fields:
            return None
        struct = fields[part]
        if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
            # a leaf; below it only the providers' free-form settings (FXP_PROVIDERS__STRIPE__SECRET_KEY)
            return path if depth == len(path) - 1 or path[0] == "providers" else None
    return None  # a whole group (FXP_API__) is not a value


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Settings from FXP_ variables. An FXP_ variable that sets nothing (a typo) or a value
    of the wrong type is a SettingsError naming the variable."""
    environ = dict(os.environ if environ is None else environ)
    raw: dict = {}
    source: dict[tuple[str, ...], str] = {}
    unknown = []
    for name, value in environ.items():
        if not name.startswith("FXP_") or name in OTHER_VARIABLES:
            continue
        path = _variable_path(name)
        if path is None:
            unknown.append(name)
            continue
        target = raw
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
        source[path] = name
    if unknown:
        raise SettingsError("; ".join(_unknown(name) for name in sorted(unknown)))
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_named(str(exc), source, environ)) from None


def known_variables() -> list[str]:
    """Every FXP_ variable that sets something (providers' own keys aside)."""
    names = [*ALIASES, *OTHER_VARIABLES]

    def walk(struct: Any, prefix: str) -> None:
        for field in msgspec.structs.fields(struct):
            name = f"{prefix}{field.name.upper()}"
            if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
                walk(field.type, name + "__")
            elif prefix != "FXP_":  # top-level fields have their flat alias (FXP_ENV)
                names.append(name)

    walk(Settings, "FXP_")
    return names


def _unknown(name: str) -> str:
    close = difflib.get_close_matches(name, known_variables(), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else " (the FXP_ variables: config/settings.py)"
    return f"unknown setting {name}: unset it or fix its name{hint}"


_EXPECTED = {"`int`": "an integer", "`float`": "a number", "`bool`": "true or false", "`object`": "a group of settings"}


def _named(message: str, source: dict[tuple[str, ...], str], environ: dict[str, str]) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.api.port`" as "FXP_PORT=abc: expected `int`"."""
    detail, _, at = message.partition(" - at `$.")
    path = tuple(at.rstrip("`").split(".")) if at else ()
    name = next((source[path[:n]] for n in range(len(path), 0, -1) if path[:n] in source), None)
    if name is None:
        return f"invalid settings: {message}"
    expected = detail.removeprefix("Expected ").split(",")[0]
    return f"{name}={environ[name]!r} is invalid: expected {_EXPECTED.get(expected, expected)}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_env()
