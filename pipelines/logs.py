"""Logging for the voc command line.

Beam logs two notices whenever it is imported without its optional GCP extras
(no GCS filesystem, no BigQuery client); voc uses neither, and the notices on
stderr would bury the one line a person needs to read. They are dropped here;
every other warning still shows.
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
        return not message.startswith(_IMPORT_NOTICES)


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
