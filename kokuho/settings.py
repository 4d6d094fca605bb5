"""Django settings for Kokuho.

Everything that differs between a demo laptop, CI and production comes from environment
variables; nothing secret is in the repository. The embedded default is two SQLite files
under `var/`: the business database and the identity vault (`vault` alias).
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KOKUHO_VAR_DIR", BASE_DIR / "var"))


def _secret_key() -> str:
    """KOKUHO_SECRET_KEY, else a key generated once into var/ (demo and development)."""
    if key := os.environ.get("KOKUHO_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("KOKUHO_DEBUG", "0") == "1"
ALLOWED_HOSTS = [
    h for h in os.environ.get("KOKUHO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "kokuho.core",
    "kokuho.accounts",
    "kokuho.audit",
    "kokuho.people",
    "kokuho.identity",
    "kokuho.rules",
    "kokuho.eligibility",
    "kokuho.interfaces",
    "kokuho.benefits",
    "kokuho.payments",
    "kokuho.certificates",
    "kokuho.cases",
    "kokuho.retention",
    "kokuho.subject_requests",
    "kokuho.cityapi",
    "kokuho.national",
    "kokuho.intermediary",
    "kokuho.workqueue",
    "kokuho.web",
    "kokuho.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: marks request.user as OTP-verified (user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A My Number typed into the wrong field: masked on the way in and out (kokuho/web/echo.py).
    "kokuho.web.echo.MyNumberEchoMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kokuho.accounts.middleware.PermissionRequiredMiddleware",
    # Last, so that it sees the login view's response and turns a lock into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kokuho.urls"
# Every form's fields: no browser-side required/maxlength, a My Number never echoed.
FORM_RENDERER = "kokuho.web.echo.GuardedRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kokuho.web.context_processors.national_alerts",
            ],
        },
    },
]

WSGI_APPLICATION = "kokuho.wsgi.application"


def _database(env_name: str, sqlite_file: str) -> dict:
    url = os.environ.get(env_name) or f"sqlite:///{VAR_DIR / sqlite_file}"
    config = dj_database_url.parse(
        url, conn_max_age=int(os.environ.get("KOKUHO_DB_CONN_MAX_AGE", "0"))
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the demo server read while a batch writes; a busy timeout instead of
        # "database is locked" errors under the counter's light concurrency.
        config["OPTIONS"] = {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
        config["CONN_MAX_AGE"] = 0
    config["TEST"] = {"NAME": os.environ.get(f"{env_name}_TEST_NAME") or None}
    return config


DATABASES = {
    "default": _database("KOKUHO_DATABASE_URL", "kokuho.sqlite3"),
    "vault": _database("KOKUHO_VAULT_DATABASE_URL", "vault.sqlite3"),
}
DATABASE_ROUTERS = ["kokuho.dbrouter.VaultRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first: new and re-saved passwords are Argon2id.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked account before any password is checked. The standalone
# backend, not `AxesBackend`: that one also inherits ModelBackend's permission methods,
# which would grant rights from the auth_permission tables — rights come from roles only.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kokuho.accounts.backends.StaffBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # ホーム: each role lands on its own work (issue 17)
LOGOUT_REDIRECT_URL = "login"

# Lockout (django-axes; docs/decisions.md): 5 failed passwords in a row lock for 30 minutes
# the username (whatever terminal they came from: guessing one account from many places)
# and, separately, the terminal's address (whatever usernames it tried: spraying one
# password over many accounts). Not the username+address pair, which would give a guesser
# 5 tries per terminal. A successful login clears both counts, so a shared counter PC is
# not locked by a few typos spread over a day.
AXES_FAILURE_LIMIT = int(os.environ.get("KOKUHO_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KOKUHO_LOGIN_LOCK_MINUTES", 30)))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The terminal is the client's address, not the proxy's (KOKUHO_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "kokuho.core.client_ip.client_address"
AXES_RESET_ON_SUCCESS = True  # a clerk who mistyped and then got in starts again from 0
# Tries while locked do not extend the lock (it ends when announced); they are still
# refused and each one is in the audit trail as a failed login.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "kokuho.web.views_accounts.account_locked_out"
AXES_ENABLE_ADMIN = False
# Logins are recorded once, in the audit trail (kokuho/web/signals.py), not also in axes' log.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "token"]  # masked in its logs

# TOTP (django-otp): the issuer staff see in their authenticator app.
OTP_TOTP_ISSUER = f"Kokuho {os.environ.get('KOKUHO_MUNICIPALITY_NAME', 'みかん市')}"
# Training (従業者教育): a 特定個人情報の取扱い研修 is valid this many days unless recorded
# otherwise (the city's annual training cycle).
KOKUHO_TRAINING_VALID_DAYS = int(os.environ.get("KOKUHO_TRAINING_VALID_DAYS", 365))

# Idle timeout: a counter terminal left alone logs itself out (情報セキュリティポリシー).
SESSION_COOKIE_AGE = int(os.environ.get("KOKUHO_SESSION_IDLE_SECONDS", 20 * 60))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
# Production (KOKUHO_PRODUCTION=1): one switch for everything that only makes sense over
# HTTPS, so an installation cannot end up with half of it; off, the demo keeps working on
# http://127.0.0.1. `kokuho check --deploy` is clean with it (kokuho/core/tests).
KOKUHO_PRODUCTION = os.environ.get("KOKUHO_PRODUCTION", "0") == "1"


def _switch(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0") == "1"


SESSION_COOKIE_SECURE = _switch("KOKUHO_SECURE_COOKIES", KOKUHO_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# No script reads the CSRF cookie (htmx sends the token from the page, base.html).
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind the city's TLS-terminating proxy, trust its X-Forwarded-Proto (only then): the API
# refuses plain HTTP, and without this every proxied request would look like plain HTTP —
# and the redirect to HTTPS below would never end. Production is behind that proxy unless
# said otherwise (a WSGI server terminating TLS itself sets KOKUHO_BEHIND_TLS_PROXY=0).
if _switch("KOKUHO_BEHIND_TLS_PROXY", KOKUHO_PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxies whose X-Forwarded-For is believed (`core.client_ip`): behind one, every
# request's REMOTE_ADDR is the proxy's, and the login lock on the terminal would lock every
# counter at once. Empty (the default off the proxy) means REMOTE_ADDR is the client.
KOKUHO_TRUSTED_PROXIES = [
    a.strip()
    for a in os.environ.get(
        "KOKUHO_TRUSTED_PROXIES",
        "127.0.0.1,::1" if _switch("KOKUHO_BEHIND_TLS_PROXY", KOKUHO_PRODUCTION) else "",
    ).split(",")
    if a.strip()
]
SECURE_SSL_REDIRECT = KOKUHO_PRODUCTION
# Not redirected: the load balancer's probe may speak plain HTTP, and an API client that
# sent its token over HTTP gets the API's own refusal (HTTPS_REQUIRED, audited) instead of
# a redirect it would silently follow next time.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^api/"]
# HSTS: a year once in production, this host and its subdomains. `preload` is only read by
# the preload list from a registrable domain's own header, so on the system's host name it
# is inert; it is sent so that `check --deploy` stays clean without a silenced warning.
SECURE_HSTS_SECONDS = (
    int(os.environ.get("KOKUHO_HSTS_SECONDS", 365 * 24 * 3600)) if KOKUHO_PRODUCTION else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = KOKUHO_PRODUCTION
SECURE_HSTS_PRELOAD = KOKUHO_PRODUCTION
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (Django's own middleware): no inline script or style anywhere —
# the screens load kokuho.css, htmx and confirm.js from /static/. The one nonce is for the
# self-contained 自己点検 report download, whose <style> must travel inside the file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("KOKUHO_STATIC_ROOT") or None
# Static files come straight from the apps (no collectstatic step in the demo).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# The municipality this installation serves (demo: a fictitious insurer in Ehime).
KOKUHO_MUNICIPALITY_NAME = os.environ.get("KOKUHO_MUNICIPALITY_NAME", "みかん市")
KOKUHO_INSURER_NUMBER = os.environ.get("KOKUHO_INSURER_NUMBER", "389999")
# 全国地方公共団体コード (6 digits with its check digit) of the city; the demo city's is synthetic.
KOKUHO_MUNICIPALITY_CODE = os.environ.get("KOKUHO_MUNICIPALITY_CODE", "389990")
# The prefecture whose 国民健康保険審査会 hears appeals (the 教示 of decisions; 国保法91条).
# Documents (証・通知): the yearly renewal date (MM-DD; 08-01 matches the 所得区分 switch),
# the 暫定運用 that sends a 資格確認書 to every insured person, where mailing PDFs are
# written, and the contact line printed on them.
KOKUHO_DOCUMENT_RENEWAL = os.environ.get("KOKUHO_DOCUMENT_RENEWAL", "08-01")
KOKUHO_DOCUMENTS_KAKUNINSHO_TO_ALL = (
    os.environ.get("KOKUHO_DOCUMENTS_KAKUNINSHO_TO_ALL", "0") == "1"
)
KOKUHO_MAILING_BATCH_SIZE = int(os.environ.get("KOKUHO_MAILING_BATCH_SIZE", 1000))
# Processes validating a long import file's rows while the importer applies them
# (interfaces.parallel_read); 1, or a file shorter than the minimum, keeps it in one process.
KOKUHO_IMPORT_WORKERS = int(os.environ.get("KOKUHO_IMPORT_WORKERS", "2"))
KOKUHO_IMPORT_PARALLEL_MIN_LINES = int(os.environ.get("KOKUHO_IMPORT_PARALLEL_MIN_LINES", "20000"))
# Processes rendering mailing batches' PDFs while the run records them (certificates.printing);
# 1 keeps printing in the run's own process. Two suit the 2-core reference machine.
KOKUHO_PRINT_WORKERS = int(os.environ.get("KOKUHO_PRINT_WORKERS", "2"))
# Processes doing a batch's reads ahead of it in read-only sessions (PostgreSQL; core.forking.
# reads_map): the renewal's deciding, the 高額療養費 month's 所得区分; 1 keeps them in the job.
KOKUHO_READ_WORKERS = int(os.environ.get("KOKUHO_READ_WORKERS", "2"))
KOKUHO_DOCUMENT_DIR = Path(os.environ.get("KOKUHO_DOCUMENT_DIR", VAR_DIR / "documents"))
KOKUHO_INSURER_CONTACT = os.environ.get(
    "KOKUHO_INSURER_CONTACT",
    f"{KOKUHO_MUNICIPALITY_NAME}役所 保険年金課 国保係 電話 089-000-0000（平日 8時30分〜17時15分）",
)
KOKUHO_PREFECTURE_NAME = os.environ.get("KOKUHO_PREFECTURE_NAME", "愛媛県")
# Payments: the 振込依頼人, which benefit is paid from which account, and the bank's profile
# (kokuho/payments/config.py); the demo city's file when unset. Run files go under
# KOKUHO_PAYMENT_DIR, one folder per 支払日.
KOKUHO_PAYMENT_CONFIG = os.environ.get("KOKUHO_PAYMENT_CONFIG", "")
KOKUHO_PAYMENT_DIR = Path(os.environ.get("KOKUHO_PAYMENT_DIR", VAR_DIR / "payments"))
# The national links' files (国保情報集約システム …), one folder per feed (kokuho.national).
KOKUHO_NATIONAL_DIR = Path(os.environ.get("KOKUHO_NATIONAL_DIR", VAR_DIR / "national"))
# A feed whose last file has no acknowledgement after this many days is an alert.
KOKUHO_NATIONAL_ACK_DAYS = int(os.environ.get("KOKUHO_NATIONAL_ACK_DAYS", "3"))
# Worker processes reading a full or delta extract's chunks on PostgreSQL (national.workers);
# 1 keeps it in one process. Two suit the 2-core reference machine.
KOKUHO_NATIONAL_WORKERS = int(os.environ.get("KOKUHO_NATIONAL_WORKERS", "2"))
# Set by `kokuho scenario …` together with in-memory databases (kokuho/cli.py).
KOKUHO_SCENARIO_MODE = os.environ.get("KOKUHO_SCENARIO_MODE") == "1"
# 記号 of the 記号・番号 (the city's district code; one code until districts are configured).
KOKUHO_NUMBER_SYMBOL = os.environ.get("KOKUHO_NUMBER_SYMBOL", "10")

# Background tasks (Django's built-in framework): file imports run in a worker process,
# `kokuho db_worker`, that takes tasks from a table in the business database
# (django-tasks-db). A task and the row that asks for it commit in one transaction.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# 取込 uploads: stored under var/uploads/ by content hash, never under the sender's name.
KOKUHO_UPLOAD_DIR = Path(os.environ.get("KOKUHO_UPLOAD_DIR", VAR_DIR / "uploads"))
# The largest file accepted on screen (the whole body is received before it is refused);
# anything larger goes through `kokuho import` on the server.
KOKUHO_UPLOAD_MAX_BYTES = int(os.environ.get("KOKUHO_UPLOAD_MAX_BYTES", 50 * 1024 * 1024))
# A run (import, 月次計算, 一斉更新) silent for this long, whose process cannot be looked up on
# this host, is taken as dead (中断): each reports progress every few seconds at most.
KOKUHO_RUN_STALE_MINUTES = int(os.environ.get("KOKUHO_RUN_STALE_MINUTES", 15))

# Access and audit events are kept this many years (privacy.md §3), then erased by the
# retention job; `audit.selectors.audit_retention_until` reads it.
KOKUHO_AUDIT_RETENTION_YEARS = int(os.environ.get("KOKUHO_AUDIT_RETENTION_YEARS", 7))
# Retention of the other data classes (privacy.md §3; `kokuho retention plan|run`). The city's
# choice under its 文書管理規程, not law, so settings like the audit one (docs/decisions.md).
# My Number: years after the person's last NHI eligibility ended (資格喪失日).
KOKUHO_RETENTION_MY_NUMBER_YEARS = int(os.environ.get("KOKUHO_RETENTION_MY_NUMBER_YEARS", 5))
# People, households, eligibility records, and the import ledger: years after the last change.
KOKUHO_RETENTION_RECORDS_YEARS = int(os.environ.get("KOKUHO_RETENTION_RECORDS_YEARS", 10))
# Claims (レセプト): years after the month of service; used once the benefits app exists.
KOKUHO_RETENTION_CLAIMS_YEARS = int(os.environ.get("KOKUHO_RETENTION_CLAIMS_YEARS", 5))
# Raw registry data: quarantined rows after they were resolved, uploads after their import.
KOKUHO_RETENTION_INTERFACE_YEARS = int(os.environ.get("KOKUHO_RETENTION_INTERFACE_YEARS", 1))

# Logs go to stderr (journald under systemd): plain text, or one JSON object per line in
# production (KOKUHO_LOG_FORMAT=json). Either way My Numbers are masked, and the JSON lines
# carry no request object (its repr holds the query string); kokuho/core/logging.py.
KOKUHO_LOG_FORMAT = os.environ.get("KOKUHO_LOG_FORMAT", "text")
if KOKUHO_LOG_FORMAT not in ("text", "json"):
    raise ValueError(f"KOKUHO_LOG_FORMAT は text か json です: {KOKUHO_LOG_FORMAT}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_my_number": {"()": "kokuho.core.logging.MyNumberMaskFilter"}},
    "formatters": {
        "text": {"format": "%(message)s"},
        "json": {"()": "kokuho.core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_my_number"],
            "formatter": KOKUHO_LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KOKUHO_LOG_LEVEL", "WARNING")},
}

# The identity vault's key file (KEKs and the blind-index key): outside both databases,
# owner-only; created at the first registration (kokuho/identity/keys.py).
KOKUHO_VAULT_KEY_FILE = Path(os.environ.get("KOKUHO_VAULT_KEY_FILE", VAR_DIR / "vault-keys.json"))

# 開示資料: staff appear by name and 職 in the access record (個人情報保護法78条1項2号ハ);
# a city that withholds names sets 0 (decision 56).
KOKUHO_DISCLOSURE_STAFF_NAMES = os.environ.get("KOKUHO_DISCLOSURE_STAFF_NAMES", "1") == "1"
