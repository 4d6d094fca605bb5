"""gunicorn's configuration for production (`kokuho serve`; docs/operations.md).

Read by `gunicorn -c python:kokuho.gunicorn_conf kokuho.wsgi`. Everything that differs
between installations comes from the same environment file as the settings
(deploy/kokuho.env.example):

* `KOKUHO_WEB_BIND` — where to listen (default `127.0.0.1:8000`: the city's TLS-terminating
  proxy in front, on the same host). A unix socket is `unix:/run/kokuho/web.sock`.
* `KOKUHO_WEB_WORKERS` — worker processes (default 2 × cores + 1). Sync workers: the proxy
  buffers slow clients, and each request holds one database connection.
* `KOKUHO_WEB_TIMEOUT` — seconds a request may take before its worker is restarted (default
  120: a 50 MB upload or a large PDF fits).
* `KOKUHO_LOG_FORMAT` / `KOKUHO_LOG_LEVEL` — as for the application (kokuho/settings.py).

Logging: gunicorn's own lines and the access log go to stderr through the same formatter as
the application, My Numbers masked. The access log is built by `AccessLogFilter`, which keeps
the method, the path without its query string, the status, size and duration (a person
search is a GET whose query holds names and birth dates); `access_log_format` is not used.
gunicorn's error log quotes the request line of a malformed request and the URI of a failed
one: `QueryStringFilter` cuts their query strings too.
"""

import multiprocessing
import os

_LOG_FORMAT = os.environ.get("KOKUHO_LOG_FORMAT", "text")
if _LOG_FORMAT not in ("text", "json"):
    raise ValueError(f"KOKUHO_LOG_FORMAT は text か json です: {_LOG_FORMAT}")

wsgi_app = "kokuho.wsgi:application"
bind = [os.environ.get("KOKUHO_WEB_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("KOKUHO_WEB_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("KOKUHO_WEB_TIMEOUT", "120"))
graceful_timeout = 30
# A worker is replaced after this many requests (with jitter so they do not all restart at
# once): a slow leak in a long-lived process cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The application is loaded in each worker, after the fork: no database connection or
# DuckDB handle is shared between processes.
preload_app = False
# Only the proxy on this host may say that a request came over HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("KOKUHO_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "kokuho-web"
# No control socket (`gunicornc`): systemd starts, reloads and stops the server.
control_socket_disable = True
loglevel = os.environ.get("KOKUHO_LOG_LEVEL", "info").lower()

_FORMATTERS = {
    "text": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s %(message)s"},
    "json": {"()": "kokuho.core.logging.JsonFormatter"},
}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_my_number": {"()": "kokuho.core.logging.MyNumberMaskFilter"},
        "access": {"()": "kokuho.core.logging.AccessLogFilter"},
        "no_query": {"()": "kokuho.core.logging.QueryStringFilter"},
    },
    "formatters": {"default": _FORMATTERS[_LOG_FORMAT]},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_my_number"],
            "formatter": "default",
            "stream": "ext://sys.stderr",
        },
    },
    # Having a `logconfig_dict` is what turns gunicorn's access log on. Not propagated: the
    # application configures the root logger again in each worker (Django's LOGGING), and a
    # propagated line would be written twice.
    "loggers": {
        "gunicorn.error": {
            "level": "INFO",
            "handlers": ["console"],
            "filters": ["no_query"],
            "propagate": False,
        },
        "gunicorn.access": {
            "level": "INFO",
            "handlers": ["console"],
            "filters": ["access"],
            "propagate": False,
        },
    },
    "root": {"level": "WARNING", "handlers": ["console"]},
}
