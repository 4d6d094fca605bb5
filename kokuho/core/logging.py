"""Log lines without personal data (privacy.md §6).

* `MyNumberMaskFilter` masks My Numbers in every message and traceback.
* `JsonFormatter` writes one JSON object per line (production: `KOKUHO_LOG_FORMAT=json`),
  masked again field by field, and keeps only plain values of a record's extras: never a
  request object, whose repr carries the full URL with its query string.
* `AccessLogFilter` turns gunicorn's access record into the request's method, path, status,
  size and duration. The query string, the referrer and the request line are dropped: a
  person search is a GET whose query holds names and birth dates (`kokuho/gunicorn_conf.py`).
"""

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping

from kokuho.core.mynumber import mask_my_numbers_in

# What every LogRecord has; anything else on a record came as `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
_PLAIN = (str, int, float, bool, type(None))
# A path followed by its query string, up to the next space or quote.
_QUERY = re.compile(r"(/[^\s?#'\"]*)\?[^\s'\"]*")
QUERY_REMOVED = "?<query removed>"


class MyNumberMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_my_numbers_in(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, masked, so a formatter cannot print it raw.
            record.exc_text = mask_my_numbers_in(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", ["exc"], [plain extras]}`, one line each."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created)
            .astimezone()
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and isinstance(value, _PLAIN):
                entry[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        masked = {k: mask_my_numbers_in(v) if isinstance(v, str) else v for k, v in entry.items()}
        return json.dumps(masked, ensure_ascii=False)


class AccessLogFilter(logging.Filter):
    """gunicorn.access: the request as fields, without query string, referrer or headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if not isinstance(atoms, Mapping):
            return True
        fields = {
            "method": atoms.get("m") or "-",
            "path": atoms.get("U") or "-",  # PATH_INFO: the path without its query string
            "status": int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else 0,
            "bytes": atoms.get("B") if isinstance(atoms.get("B"), int) else 0,
            "duration_ms": atoms.get("M") if isinstance(atoms.get("M"), int) else 0,
            "remote": atoms.get("h") or "-",
        }
        record.msg = "{method} {path} {status} {bytes}B {duration_ms}ms".format(**fields)
        record.args = None
        record.__dict__.update(fields)
        return True


class QueryStringFilter(logging.Filter):
    """A message's `/path?query` becomes `/path?<query removed>` (gunicorn.error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cut = _QUERY.sub(lambda m: m.group(1) + QUERY_REMOVED, message)
        if cut != message:
            record.msg, record.args = cut, None
        return True
