"""Logging filter that keeps My Numbers out of every log line (privacy.md §6)."""

import logging

from kokuho.core.mynumber import mask_my_numbers_in


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
