"""Logging for the voc command line.

Beam logs two notices whenever it is imported without its optional GCP extras
(no GCS filesystem, no BigQuery client); voc uses neither, and the notices on
stderr would bury the one line a person needs to read. They are dropped here,
as are the runner's tracebacks of a sink that stayed unwritable through a stop
(`voc run` says that in one line); every other warning still shows.
"""

from __future__ import annotations

import logging

_IMPORT_NOTICES = (
    "Failed to import GCSFileSystem",
    "apitools not found, and bigquery client libraries",
)


class _DropImportNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(_IMPORT_NOTICES):
            return False
        # A sink that stayed unwritable through a stop is an operating condition that
        # `voc run` reports in one line; the runner's tracebacks of its bundle
        # retries would bury that line.
        return not (record.name.startswith("apache_beam") and _about_sink_unavailable(record))


def _about_sink_unavailable(record: logging.LogRecord) -> bool:
    from voc.transforms.sinks.retry_sink import GAVE_UP, sink_unavailable_in

    if record.exc_info and sink_unavailable_in(record.exc_info[1]) is not None:
        return True
    text = record.getMessage()
    return "SinkUnavailable" in text or GAVE_UP in text


def configure_logging(level: int = logging.WARNING) -> None:
    """Call before importing Beam: its notices are logged at import time."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("voc: %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, _DropImportNotices) for f in handler.filters):
            handler.addFilter(_DropImportNotices())
