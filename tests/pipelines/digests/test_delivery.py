"""Delivery over a real SMTP server and a real HTTP receiver: the message as received,
retries with backoff, failures recorded and retried by the next run, one send per period."""

from __future__ import annotations

import json
import threading
from itertools import pairwise

from tests.pipelines.digests.samples import full_content
from voc.pipelines.cli import main
from voc.pipelines.digests.deliver import Targets, WebhookTarget
from voc.pipelines.digests.ledger import LEDGER_NAME
from voc.pipelines.digests.run import deliver, write_digest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SUBJECT = "voc digest: billing, 2026-11-23 to 2026-11-30"


def _digest(db, out, *flags: str) -> int:
    return main(["digest", "--duckdb", str(db), "--out", str(out), "--end", "2026-11-30",
                 "--deliver", "--attempts", "3", "--retry-delay", "0.05", *flags])  # fmt: skip


def _ledger(out) -> list[dict]:
    return [json.loads(line) for line in (out / LEDGER_NAME).read_text().splitlines()]


def test_email_reaches_a_real_smtp_server_once_per_period(digest_db, tmp_path, smtp_server, capsys):
    smtp = ["--smtp-host", smtp_server.host, "--smtp-port", str(smtp_server.port),
            "--from", "voc@example.com"]  # fmt: skip
    assert _digest(digest_db, tmp_path, "--department", "billing", *smtp) == 0
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == SUBJECT
    assert smtp_server.recipients == [["billing-owner@example.com"]]  # the registry's address
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content()
    assert "## Top causes (9 contacts)" in plain
    html_part = message.get_body(("html",))
    html = html_part.get_content()
    assert "data:image" not in html  # mail clients block data: images; charts go inline
    cids = [part["Content-ID"].strip("<>") for part in message.walk()
            if part.get_content_type() == "image/png"]  # fmt: skip
    assert len(cids) == 2
    for cid in cids:
        assert f'src="cid:{cid}"' in html
    for part in message.walk():
        if part.get_content_type() == "image/png":
            assert part.get_content().startswith(PNG_MAGIC)
    assert "Top causes" in html and "double_charge" in html

    # The same department and period again: nothing is sent, the run says why.
    capsys.readouterr()
    assert _digest(digest_db, tmp_path, "--department", "billing", *smtp) == 0
    assert len(smtp_server.messages) == 1
    assert "email: skipped: already sent" in capsys.readouterr().out
    assert [e["status"] for e in _ledger(tmp_path)] == ["sent"]


def test_a_webhook_that_fails_twice_is_retried_with_backoff(digest_db, tmp_path, webhook_receiver):
    receiver = webhook_receiver(500, 500, 200)
    assert _digest(digest_db, tmp_path, "--department", "docs", "--webhook", receiver.url) == 0
    assert len(receiver.requests) == 3
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(keys) == 1
    payload = receiver.requests[-1]["json"]
    assert payload["department"] == "docs" and payload["subject"].startswith("voc digest: docs")
    assert "No feedback for docs between 2026-11-23 and 2026-11-30." in payload["text"]
    gaps = [b["at"] - a["at"] for a, b in pairwise(receiver.requests)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.08  # 0.05 s, then 0.1 s (+/- 20% jitter)
    (entry,) = _ledger(tmp_path)
    assert (entry["status"], entry["attempts"], entry["channel"]) == ("sent", 3, "webhook")


def test_a_webhook_that_always_fails_is_reported_recorded_and_retried_next_run(
    digest_db, tmp_path, webhook_receiver, capsys
):
    down = webhook_receiver(500)
    assert _digest(digest_db, tmp_path, "--department", "docs", "--webhook", down.url) == 1
    printed = capsys.readouterr().out
    assert len(down.requests) == 3
    assert "webhook: failed after 3 attempt(s): DeliveryError: HTTP 500" in printed
    assert "retried by the next run" in printed
    (failed,) = _ledger(tmp_path)
    assert failed["status"] == "failed" and "HTTP 500" in failed["error"]
    assert "secret-token" not in json.dumps(failed) + printed  # a webhook's path is its secret

    # The next run is for the next day's period: it sends that, and the earlier failure too.
    up = webhook_receiver(200)
    flags = ["--department", "docs", "--webhook", up.url, "--end", "2026-12-01"]
    assert _digest(digest_db, tmp_path, *flags) == 0
    printed = capsys.readouterr().out
    assert (
        "earlier docs 2026-11-23T00:00:00+00:00..2026-11-30T00:00:00+00:00 webhook: sent" in printed
    )
    assert sorted(r["json"]["period_end"] for r in up.requests) == [
        "2026-11-30T00:00:00+00:00",
        "2026-12-01T00:00:00+00:00",
    ]
    assert [e["status"] for e in _ledger(tmp_path)] == ["failed", "sent", "sent"]
    # And a third run sends nothing.
    assert _digest(digest_db, tmp_path, *flags) == 0
    assert len(up.requests) == 2


def test_two_runs_at_once_send_once(tmp_path, webhook_receiver):
    """The ledger's lock: two deliveries of the same digest started together (cron and a
    person) send it once; the second waits for the first and finds its 'sent'."""
    receiver = webhook_receiver(200)
    written = write_digest(full_content(), tmp_path)
    targets = {"billing": Targets(webhook=WebhookTarget(receiver.url))}
    results: list[list] = []
    runs = [
        threading.Thread(target=lambda: results.append(deliver(tmp_path, [written], targets)))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=30)
    assert len(receiver.requests) == 1
    assert sorted(o.status for outcomes in results for o in outcomes) == ["sent", "skipped"]
