"""正风 settings: one module, every value from an environment variable with an embedded default.

Every variable read here is listed with its default and meaning in `.env.example`. A bad value stops
start-up with an `ImproperlyConfigured` error that names the variable.
"""

from __future__ import annotations

import ipaddress
import os
import re
import zoneinfo
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    """Read `name`, or the contents of the file named by `name_FILE` (Docker/systemd secrets)."""
    file_name = os.getenv(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: 无法读取文件 {file_name}: {exc}") from exc
    return os.getenv(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    if value in ("True", "true", "1", "yes", "on"):
        return True
    if value in ("False", "false", "0", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}: 取值必须是 True 或 False，而不是 {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: 取值必须是整数，而不是 {value!r}") from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}: 取值不能小于 {minimum}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: 取值必须是 {' | '.join(choices)} 之一，而不是 {value!r}")
    return value


def env_quiet_hours(name: str, default: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Parse `HH:MM-HH:MM` (may wrap midnight); an empty value disables quiet hours."""
    value = os.getenv(name, default).strip()
    if not value:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", value)
    if not match:
        raise ImproperlyConfigured(f"{name}: 格式应为 HH:MM-HH:MM（例如 21:00-08:00），而不是 {value!r}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    if start_h > 23 or end_h > 23 or start_m > 59 or end_m > 59:
        raise ImproperlyConfigured(f"{name}: 时间超出范围: {value!r}")
    return (start_h, start_m), (end_h, end_m)


DEBUG = env_bool("DEBUG", False)

# `zhengfeng demo` sets ZHENGFENG_DEMO=1 and provides a generated key kept under var/.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "development-only-secret-key-never-use-in-production"  # noqa: S105 (DEBUG only)
    else:
        raise ImproperlyConfigured("SECRET_KEY: 生产环境（DEBUG 关闭）必须设置 SECRET_KEY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai") or "Asia/Shanghai"
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TIME_ZONE: 未知时区 {TIME_ZONE!r}") from exc
USE_TZ = True

LANGUAGE_CODE = env_choice("LANGUAGE_CODE", "zh-hans", ("zh-hans", "en"))
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Ninja serves its Swagger UI from its own static files only when installed as an app (no CDN).
    "ninja",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "template_partials",
    "zhengfeng.core",
    "zhengfeng.org",
    "zhengfeng.deadlines",
    "zhengfeng.messaging",
    "zhengfeng.assessment",
    "zhengfeng.alerts",
    "zhengfeng.ledger",
    "zhengfeng.hotline",
    "zhengfeng.evaluation",
    "zhengfeng.staff",
    "zhengfeng.portal",
]

MIDDLEWARE = [
    # First (outermost), so the policy goes on every response, also those a middleware below answers
    # itself (redirects, static files, refusals); it sets request.csp_nonce before any of them runs.
    "zhengfeng.core.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session and CSRF middleware: it refuses NUL, lone surrogates, deep JSON and bodies
    # Django cannot parse with a 400 before anything reads them (zhengfeng/core/input_guard.py).
    "zhengfeng.core.input_guard.InputGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor: django-otp marks the user verified from the session; ours then keeps an unverified user
    # of a listed role on the two-factor pages (org.twofactor). Both need the authenticated user.
    "django_otp.middleware.OTPMiddleware",
    "zhengfeng.staff.middleware.TwoFactorRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# The format of input_guard's 400 by path prefix (the clients of each read their own); else an HTML page.
INPUT_REFUSAL_FORMATS = {
    "/api/": "zhengfeng.core.input_guard.json_refusal",
    "/open311/": "zhengfeng.hotline.open311.refusal",
    "/hooks/": "zhengfeng.messaging.views.refusal",
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # {% partialdef %} everywhere without {% load %}; the app wraps the loaders for "page.html#part".
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhengfeng.staff.context_processors.navigation",
                "zhengfeng.core.csp.csp",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DB_ENGINE = env_choice("DB_ENGINE", "sqlite", ("sqlite", "postgres"))
if DB_ENGINE == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env_str("DB_NAME", "zhengfeng") or "zhengfeng",
            "HOST": env_str("DB_HOST", "127.0.0.1"),
            "PORT": env_int("DB_PORT", 5432, minimum=1),
            "USER": env_str("DB_USER", "postgres"),
            "PASSWORD": env_str("DB_PASSWORD", ""),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60, minimum=0),
            # Off by default: the check is a round trip on every request (a quarter of a small write's
            # cost, docs/performance.md). Without it a connection the server dropped fails one request
            # and is then replaced, as in Django's default.
            "CONN_HEALTH_CHECKS": env_bool("DB_CONN_HEALTH_CHECKS", False),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("DB_NAME", str(BASE_DIR / "var" / "zhengfeng.sqlite3"))
            or str(BASE_DIR / "var" / "zhengfeng.sqlite3"),
            "OPTIONS": {
                # The web server and the worker write concurrently: take the write lock at BEGIN
                # so transactions queue instead of failing half-way with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.User"

# --- Authentication ---------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench"
LOGOUT_REDIRECT_URL = "login"
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# Roles that must pass a TOTP second factor after the password (empty: none). Superusers count as admin.
OTP_REQUIRED_ROLES = env_list("OTP_REQUIRED_ROLES", "office,inspector,admin")
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "正风") or "正风"
# Failed sign-ins from one client address per fixed window, whatever the usernames (password spraying).
LOGIN_IP_MAX_FAILURES = env_int("LOGIN_IP_MAX_FAILURES", 20, minimum=1)
LOGIN_IP_WINDOW_MINUTES = env_int("LOGIN_IP_WINDOW_MINUTES", 15, minimum=1)

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Government intranets often terminate TLS at a proxy; these default on outside DEBUG and can be
# switched off for a plain-HTTP pilot (the demo does that).
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)


def env_networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of addresses or CIDR blocks (`10.0.0.1,172.16.0.0/12`)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} 不是有效的 IP 地址或网段") from exc
    return networks


# The reverse proxies in front of the server: only a request whose direct peer is one of them has its
# client address taken from X-Forwarded-For (core.http.client_ip). Empty: REMOTE_ADDR is the client.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", "")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SILENCED_SYSTEM_CHECKS = [
    # HSTS and the HTTPS redirect are the proxy's job on the intranet; both stay configurable.
    "security.W004",
    "security.W008",
    # Intranet host names are never on the public HSTS preload list.
    "security.W021",
]

# Personal data (names, phone and ID numbers) are encrypted with SM4-GCM under a key derived from
# FIELD_ENCRYPTION_KEY; the blind index uses a second key derived from the same secret.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY")
if not FIELD_ENCRYPTION_KEY:
    if DEBUG:
        FIELD_ENCRYPTION_KEY = "development-only-field-key"
    else:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY: 生产环境必须设置个人信息加密密钥")
if len(FIELD_ENCRYPTION_KEY) < 16:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY: 密钥至少 16 个字符")
# Set only while `zhengfeng keys rotate` runs (the old key): values still under it stay readable until
# every row is re-encrypted; remove it once the rotation has finished (docs/security.md, "Field keys").
FIELD_ENCRYPTION_KEY_PREVIOUS = env_str("FIELD_ENCRYPTION_KEY_PREVIOUS")
if FIELD_ENCRYPTION_KEY_PREVIOUS and len(FIELD_ENCRYPTION_KEY_PREVIOUS) < 16:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY_PREVIOUS: 密钥至少 16 个字符")

# Audit-chain anchors (ADR 0001): the signed chain head, daily, in core.AuditAnchor and appended to this
# file, which may sit on other storage than the database. The HMAC key is derived from AUDIT_ANCHOR_KEY, or
# from SECRET_KEY when it is unset (then rotating SECRET_KEY makes older anchors unverifiable).
AUDIT_ANCHOR_KEY = env_str("AUDIT_ANCHOR_KEY", "")
AUDIT_ANCHOR_FILE = Path(env_str("AUDIT_ANCHOR_FILE", str(BASE_DIR / "var" / "audit-anchors.jsonl")))

# --- Cache ---------------------------------------------------------------------------------------
# Rate limits (public filing, tracking, votes) must count across every server process and the worker,
# and the design needs no Redis: the database is the shared cache. The table is created by migration
# core.0003 (and `zhengfeng createcachetable` is harmless to re-run).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "zhengfeng_cache",
    }
}

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, compressed files collected by `collectstatic` (serve and demo run it);
# development and tests serve straight from the source folders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"
# Largest accepted upload per kind of file, in MB (zhengfeng.core.uploads checks every upload).
# Django streams a large upload to a temporary file first; put the same overall cap on the proxy.
UPLOAD_MAX_BYTES = {
    kind: env_int(f"UPLOAD_MAX_MB_{kind.upper()}", default, minimum=1) * 1024 * 1024
    for kind, default in {"document": 20, "image": 10, "archive": 50, "text": 2, "data": 20}.items()
}

# --- Messaging --------------------------------------------------------------------------------
SMS_BACKEND = env_choice("SMS_BACKEND", "console", ("console", "file", "http", "locmem"))
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms.jsonl"))
SMS_HTTP_URL = env_str("SMS_HTTP_URL", "")
SMS_HTTP_SECRET = env_str("SMS_HTTP_SECRET", "")
SMS_HTTP_TIMEOUT = env_int("SMS_HTTP_TIMEOUT", 10, minimum=1)
if SMS_BACKEND == "http" and not (SMS_HTTP_URL and SMS_HTTP_SECRET):
    raise ImproperlyConfigured("SMS_HTTP_URL: SMS_BACKEND=http 时必须设置 SMS_HTTP_URL 和 SMS_HTTP_SECRET")
SMS_WEBHOOK_SECRET = env_str("SMS_WEBHOOK_SECRET", "")
SMS_QUIET_HOURS = env_quiet_hours("SMS_QUIET_HOURS", "21:00-08:00")
SMS_SIGNATURE = env_str("SMS_SIGNATURE", "【清远正风】")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6, minimum=1)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "zhengfeng@localhost")

# --- Evaluation (公述民评) ----------------------------------------------------------------------
# Minutes between recording an enforcement action and its invitation SMS (quiet hours still apply).
EVALUATION_SMS_DELAY_MINUTES = env_int("EVALUATION_SMS_DELAY_MINUTES", 30, minimum=0)
# Online evaluation: verification codes per hour from one IP address (offices behind one NAT share
# it, hence generous) and from one device cookie.
EVALUATION_VOTE_IP_LIMIT = env_int("EVALUATION_VOTE_IP_LIMIT", 30, minimum=1)
EVALUATION_VOTE_DEVICE_LIMIT = env_int("EVALUATION_VOTE_DEVICE_LIMIT", 5, minimum=1)

# --- Open311 and the public hotline portal -----------------------------------------------------
# The jurisdiction this Open311 endpoint serves (the city's web domain without www); another value → 404.
OPEN311_JURISDICTION_ID = env_str("OPEN311_JURISDICTION_ID", "qingyuan.gov.cn") or "qingyuan.gov.cn"
# GB/T 2260 code of the division an Open311 request belongs to when it gives no known address_id.
OPEN311_DIVISION = env_str("OPEN311_DIVISION", "441800") or "441800"
# Contact shown in the Open311 discovery document.
OPEN311_CONTACT = (
    env_str("OPEN311_CONTACT", "清远市12345政务服务便民热线 12345") or "清远市12345政务服务便民热线 12345"
)

# --- Worker -----------------------------------------------------------------------------------
WORKER_POLL_SECONDS = env_int("WORKER_POLL_SECONDS", 5, minimum=1)
# Each running worker renews its row (WorkerProcess.last_seen) from a thread this often; a worker not
# seen for WORKER_LEASE_SECONDS is dead and its claims (job runs, outbox rows) are taken over. The
# lease must span several beats, so a slow beat or two does not hand a live worker's job to another.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 5, minimum=1)
WORKER_LEASE_SECONDS = max(env_int("WORKER_LEASE_SECONDS", 20, minimum=2), 2 * WORKER_HEARTBEAT_SECONDS)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO") or "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
