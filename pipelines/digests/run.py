"""Writing digests to files and delivering them: what ``voc digest`` does, without the CLI.

Files are always written first, under names fixed by department and period
(``billing-20261125T0000Z-20261202T0000Z.html``), atomically (a temporary file
renamed into place): a reader never sees half a digest, a re-run overwrites the
same files, and a delivery that failed can be retried from them later.

Delivery then goes through the ledger (ledger.py): first every earlier send of
these departments that failed (any period), then this period's; a key already
sent is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from voc.pipelines.digests.charts import charts_of
from voc.pipelines.digests.content import DigestContent, Period
from voc.pipelines.digests.deliver import Bundle, EmailTarget, Targets, WebhookTarget, send
from voc.pipelines.digests.ledger import (
    CANCELLED,
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    FAILED,
    SENT,
    Attempted,
    Key,
    Ledger,
    with_retries,
)
from voc.pipelines.digests.render_html import IndexEntry, render_html, render_index
from voc.pipelines.digests.render_markdown import render_markdown
from voc.transforms.backoff import Backoff

FORMATS = ("html", "md")
SKIPPED = "skipped"


@dataclass(frozen=True)
class Written:
    content: DigestContent
    paths: dict[str, Path]  # format -> file

    def bundle(self) -> Bundle:
        period = self.content.period
        return Bundle(
            department=self.content.department,
            period_start=period.start.isoformat(),
            period_end=period.end.isoformat(),
            subject=self.content.subject,
            markdown_path=self.paths["md"],
            html_path=self.paths["html"],
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one (department, period, channel) in this run."""

    key: Key
    status: str  # sent | skipped (sent before) | failed | cancelled
    attempts: int = 0
    error: str = ""
    detail: str = ""
    earlier: bool = False  # a retry of an earlier run's failure

    def line(self) -> str:
        what = f"{self.key.text()}: {self.status}"
        if self.status == SENT:
            return f"{what} after {self.attempts} attempt(s) ({self.detail})"
        if self.status == FAILED:
            return f"{what} after {self.attempts} attempt(s): {self.error}"
        if self.status == SKIPPED:
            return f"{what}: already sent"
        return f"{what}: {self.error}"


def file_stem(department: str, period: Period) -> str:
    """The file name of a digest, without its extension. Department names are schema
    names ([a-z][a-z0-9_]*, checked when the job loads them); checked again here
    because they become file names."""
    if not re.match(r"^[a-z][a-z0-9_]*$", department):
        raise ValueError(f"department {department!r}: not a plain lowercase name")
    return f"{department}-{period.slug}"


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_digest(
    content: DigestContent, out_dir: Path, formats: Sequence[str] = FORMATS
) -> Written:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(content.department, content.period)
    paths: dict[str, Path] = {}
    if "html" in formats:
        paths["html"] = out_dir / f"{stem}.html"
        _write_atomically(paths["html"], render_html(content, charts_of(content)))
    if "md" in formats:
        paths["md"] = out_dir / f"{stem}.md"
        _write_atomically(paths["md"], render_markdown(content))
    return Written(content, paths)


def write_index(period: Period, written: Sequence[Written], out_dir: Path) -> Path:
    """The page linking each department's HTML digest (or Markdown, if that is all)."""
    entries = [
        IndexEntry(
            department=w.content.department,
            href=(w.paths.get("html") or w.paths["md"]).name,
            contacts=w.content.total_contacts,
            top_cause=w.content.top_causes[0].cause_id if w.content.top_causes else "",
            open_alerts=sum(1 for a in w.content.alerts if a.status == "open"),
            overdue=w.content.overdue_count,
        )
        for w in written
    ]
    path = out_dir / f"index-{period.slug}.html"
    _write_atomically(path, render_index(period, entries))
    return path


def _target_text(target: EmailTarget | WebhookTarget) -> str:
    if isinstance(target, EmailTarget):
        return "email to " + ", ".join(target.to)
    from urllib.parse import urlsplit

    return "webhook at " + urlsplit(target.url).netloc


def _attempt(
    ledger: Ledger,
    key: Key,
    bundle: Bundle,
    target: EmailTarget | WebhookTarget,
    earlier: bool,
    retry: Callable[[Callable[[], str]], Attempted],
) -> Outcome:
    attempted = retry(lambda: send(bundle, key.channel, target))
    ledger.record(
        key,
        SENT if attempted.ok else FAILED,
        attempted,
        subject=bundle.subject,
        markdown=str(bundle.markdown_path),
        html=str(bundle.html_path),
        target=_target_text(target),
    )
    status = SENT if attempted.ok else FAILED
    return Outcome(key, status, attempted.attempts, attempted.error, attempted.detail, earlier)


def deliver(
    out_dir: Path,
    written: Sequence[Written],
    targets: Mapping[str, Targets],
    attempts: int = DEFAULT_ATTEMPTS,
    backoff: Backoff = DEFAULT_BACKOFF,
    sleep: Callable[[float], None] | None = None,
) -> list[Outcome]:
    """Send each written digest to its department's targets, once per key, retrying
    earlier failures of these departments first; every outcome is in the ledger."""

    def retry(call: Callable[[], str]) -> Attempted:
        if sleep is None:
            return with_retries(call, attempts, backoff)
        return with_retries(call, attempts, backoff, sleep)

    outcomes: list[Outcome] = []
    current = {
        Key(w.content.department, b.period_start, b.period_end, channel)
        for w in written
        for b in [w.bundle()]
        for channel in targets.get(w.content.department, Targets()).channels()
    }
    with Ledger(out_dir) as ledger:
        for entry in list(ledger.outstanding(set(targets))):
            key = Key(
                entry["department"], entry["period_start"], entry["period_end"], entry["channel"]
            )
            if key in current:
                continue  # retried below with this run's files
            target = targets[key.department].channels().get(key.channel)
            if target is None:
                gone = Attempted(
                    False,
                    0,
                    f"{key.channel} is no longer configured for {key.department}; not retried",
                )
                ledger.record(key, CANCELLED, gone, subject=entry.get("subject", ""))
                outcomes.append(Outcome(key, CANCELLED, error=gone.error, earlier=True))
                continue
            bundle = Bundle(
                key.department,
                key.period_start,
                key.period_end,
                entry.get("subject", ""),
                Path(entry["markdown"]),
                Path(entry["html"]),
            )
            outcomes.append(_attempt(ledger, key, bundle, target, True, retry))
        for w in written:
            bundle = w.bundle()
            for channel, target in targets.get(w.content.department, Targets()).channels().items():
                key = Key(w.content.department, bundle.period_start, bundle.period_end, channel)
                if ledger.was_sent(key):
                    outcomes.append(Outcome(key, SKIPPED))
                    continue
                outcomes.append(_attempt(ledger, key, bundle, target, False, retry))
    return outcomes


def write_all(
    reader, period: Period, out_dir: Path, formats: Sequence[str] = FORMATS
) -> tuple[list[Written], Path]:
    """Every department's digest for ``period`` and the index page linking them."""
    from voc.pipelines.digests.content import departments, gather

    written = [
        write_digest(gather(reader, name, period, source=reader.source), out_dir, formats)
        for name in departments(reader)
    ]
    return written, write_index(period, written, out_dir)


def write_demo_digests(database: str, out=None) -> list[Path]:
    """What ``voc demo`` ends with: every department's digest (HTML and Markdown) for
    the 7 days up to the next full hour (the demo's data ends now), in
    ``voc-digests/`` beside the database; prints the paths."""
    from datetime import UTC, datetime, timedelta

    from voc.pipelines.digests.reader import open_reader

    now = datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    folder = Path(database).resolve().parent / "voc-digests"
    with open_reader(database) as reader:
        written, index = write_all(reader, Period(end - timedelta(days=7), end), folder)
    paths = [path for w in written for path in w.paths.values()] + [index]
    print(f"\nDigests for {written[0].content.period.label if written else '-'}:", file=out)
    for w in written:
        for path in w.paths.values():
            print(f"  {w.content.department:<16} {path}", file=out)
    print(f"  {'index':<16} {index}", file=out, flush=True)
    return paths
