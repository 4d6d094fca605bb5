"""Production logs: one JSON object per line, no My Number, no query string (privacy.md §6)."""

import io
import json
import logging
import re

import pytest
from django.test import RequestFactory

from kokuho.core.logging import (
    QUERY_REMOVED,
    AccessLogFilter,
    JsonFormatter,
    MyNumberMaskFilter,
    QueryStringFilter,
)
from kokuho.core.mynumber import is_valid_my_number, my_number_check_digit

FIRST = "98765432101"
MY_NUMBER = FIRST + str(my_number_check_digit(FIRST))
SEARCH = f"/?kana=ヤマダ+タロウ&birth=S35.5.10&atena_no={MY_NUMBER}"


@pytest.fixture
def lines():
    """What the production handler writes (settings.LOGGING with KOKUHO_LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MyNumberMaskFilter())
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger(n) for n in ("kokuho.test", "django.request")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.propagate = False
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)
        logger.propagate = True


def _no_personal_data(entries: list[dict]) -> None:
    text = json.dumps(entries, ensure_ascii=False)
    assert not [d for d in re.findall(r"\d{12}", text) if is_valid_my_number(d)]
    assert "ヤマダ" not in text and "kana=" not in text and "birth=" not in text


def test_each_line_is_one_json_object_with_the_number_masked(lines):
    logging.getLogger("kokuho.test").warning("照会 %s の結果なし", MY_NUMBER)
    try:
        raise ValueError(f"bad number {MY_NUMBER}")
    except ValueError:
        logging.getLogger("kokuho.test").exception("失敗")
    first, second = lines()
    assert first["level"] == "WARNING" and first["logger"] == "kokuho.test"
    assert first["message"] == f"照会 **** **** {MY_NUMBER[-4:]} の結果なし"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", first["time"])
    assert "ValueError: bad number **** ****" in second["exc"]
    _no_personal_data([first, second])


def test_a_request_object_in_extra_is_left_out_and_plain_values_kept(lines):
    request = RequestFactory().get(SEARCH)
    assert "kana=" in repr(request)  # what would leak if it were written
    logging.getLogger("django.request").warning(
        "Not Found: %s", request.path, extra={"status_code": 404, "request": request}
    )
    (entry,) = lines()
    assert entry["message"] == "Not Found: /" and entry["status_code"] == 404
    assert "request" not in entry
    _no_personal_data([entry])


def test_gunicorns_access_record_becomes_fields_without_the_query():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.gunicorn.access")
    logger.addHandler(handler)
    logger.addFilter(AccessLogFilter())
    logger.setLevel(logging.INFO)  # as gunicorn sets its access logger
    logger.propagate = False
    path, query = SEARCH.split("?")
    atoms = {  # as gunicorn's Logger.atoms() gives them
        "h": "10.0.0.5",
        "m": "GET",
        "U": path,
        "q": query,
        "r": f"GET {SEARCH} HTTP/1.1",
        "s": "302",
        "B": 0,
        "M": 12,
        "f": f"https://kokuho.example{SEARCH}",
        "a": "Mozilla/5.0",
    }
    try:
        logger.info('%(h)s "%(r)s" %(s)s "%(f)s"', atoms)
    finally:
        logger.removeHandler(handler)
    (entry,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert entry["message"] == "GET / 302 0B 12ms"
    assert (entry["method"], entry["path"], entry["status"], entry["remote"]) == (
        "GET",
        "/",
        302,
        "10.0.0.5",
    )
    assert "?" not in json.dumps(entry)
    _no_personal_data([entry])


def test_a_quoted_request_line_loses_its_query_string():
    record = logging.LogRecord(
        "gunicorn.error",
        logging.WARNING,
        __file__,
        1,
        "Invalid request from ip=%s: Invalid HTTP request line: '%s'",
        ("127.0.0.1", f"GET {SEARCH} HTTP/1.1"),
        None,
    )
    QueryStringFilter().filter(record)
    assert record.getMessage().endswith(f"'GET /{QUERY_REMOVED} HTTP/1.1'")
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "2割? それとも 3割?", None, None)
    QueryStringFilter().filter(plain)
    assert plain.getMessage() == "2割? それとも 3割?"
