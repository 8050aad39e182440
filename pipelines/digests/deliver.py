"""Sending a written digest: email over SMTP, or a JSON POST to a webhook (a chat tool).

A send starts from the files already written (``Bundle``), not from the
database, so a delivery that failed last week is retried next run from last
week's files. Each function raises on failure (the ledger retries and records);
none of them decides whether to send: that is the ledger's job.

Email: ``multipart/alternative`` with the Markdown as the plain-text part and
the HTML as a ``multipart/related`` part whose charts are attached inline and
referenced by ``cid:`` (mail clients block ``data:`` images; browsers and the
file on disk keep them). The Message-ID is derived from the department and
period, so a receiving system can drop a duplicate too.

Webhook: ``POST`` of ``{"text": <markdown>, "subject", "department",
"period_start", "period_end", "link"}`` (``link`` when the department's delivery
names where the HTML digests are published; ``html`` too when asked), with an
``Idempotency-Key`` header; any 2xx is success.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import smtplib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

SMTP_PASSWORD_ENV = "VOC_SMTP_PASSWORD"
_DATA_IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


class DeliveryConfigError(ValueError):
    """A department's delivery settings cannot be used; the CLI exits 2."""


@dataclass(frozen=True)
class EmailTarget:
    to: tuple[str, ...]
    sender: str
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    username: str | None = None  # the password is read from $VOC_SMTP_PASSWORD
    timeout: float = 30.0


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    link_base: str | None = None  # where the HTML digests are published, if anywhere
    include_html: bool = False
    timeout: float = 15.0


@dataclass(frozen=True)
class Bundle:
    """One written digest: what every channel sends."""

    department: str
    period_start: str
    period_end: str
    subject: str
    markdown_path: Path
    html_path: Path

    def markdown(self) -> str:
        return self.markdown_path.read_text(encoding="utf-8")

    def html(self) -> str:
        return self.html_path.read_text(encoding="utf-8")

    @property
    def idempotency_key(self) -> str:
        text = f"{self.department}|{self.period_start}|{self.period_end}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Targets:
    email: EmailTarget | None = None
    webhook: WebhookTarget | None = None

    def channels(self) -> dict[str, EmailTarget | WebhookTarget]:
        found = {"email": self.email, "webhook": self.webhook}
        return {name: target for name, target in found.items() if target is not None}


def targets_from(
    delivery: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    overrides: Mapping[str, Any] | None = None,
) -> Targets:
    """A department's targets from its registry entry, then the command-line overrides.

    ``delivery`` is the departments table's JSON (from the owners registry), one
    entry or a list of them::

        {"kind": "file"}                                   # written only (the default)
        {"kind": "email", "to": ["billing-owners@example.com"]}
        {"kind": "webhook", "url": "https://chat.example.com/hooks/...",
         "link_base": "https://reports.example.com/digests", "include_html": false}

    The SMTP relay is the machine's, not the department's: ``--smtp-host``,
    ``--smtp-port``, ``--from`` or $VOC_SMTP_HOST, $VOC_SMTP_PORT, $VOC_SMTP_FROM
    (and $VOC_SMTP_USER with $VOC_SMTP_PASSWORD, $VOC_SMTP_STARTTLS=1).
    ``overrides`` (flags): ``to`` (addresses), ``webhook`` (a URL), ``smtp_host``,
    ``smtp_port``, ``sender``; ``to``/``webhook`` replace the registry's.
    """
    entries = [delivery] if isinstance(delivery, Mapping) else list(delivery or [])
    overrides = {k: v for k, v in (overrides or {}).items() if v not in (None, "", [], ())}
    by_kind = {str(entry.get("kind", "")): dict(entry) for entry in entries}
    unknown = set(by_kind) - {"file", "email", "webhook"}
    if unknown:
        raise DeliveryConfigError(
            f"delivery kind {sorted(unknown)[0]!r}: expected file, email or webhook"
        )
    email = None
    recipients = overrides.get("to") or by_kind.get("email", {}).get("to")
    if recipients:
        env = os.environ
        sender = overrides.get("sender") or env.get("VOC_SMTP_FROM")
        if not sender:
            raise DeliveryConfigError("email delivery needs a sender: --from or $VOC_SMTP_FROM")
        email = EmailTarget(
            to=(recipients,) if isinstance(recipients, str) else tuple(recipients),
            sender=sender,
            host=overrides.get("smtp_host") or env.get("VOC_SMTP_HOST") or "localhost",
            port=int(overrides.get("smtp_port") or env.get("VOC_SMTP_PORT") or 25),
            starttls=env.get("VOC_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            username=env.get("VOC_SMTP_USER") or None,
        )
    webhook = None
    hook = dict(by_kind.get("webhook", {}))
    if overrides.get("webhook"):
        hook["url"] = overrides["webhook"]
    if hook:
        if not str(hook.get("url", "")).startswith(("http://", "https://")):
            raise DeliveryConfigError(f"webhook {hook.get('url')!r}: expected an http(s) URL")
        webhook = WebhookTarget(
            url=hook["url"],
            link_base=hook.get("link_base"),
            include_html=bool(hook.get("include_html", False)),
        )
    return Targets(email=email, webhook=webhook)


def inline_images(html: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The HTML with each ``data:`` PNG replaced by a ``cid:`` reference, and the
    images to attach under those ids."""
    images: list[tuple[str, bytes]] = []

    def swap(match: re.Match) -> str:
        cid = f"chart{len(images) + 1}@voc.digest"
        images.append((cid, base64.b64decode(match.group(1))))
        return f'src="cid:{cid}"'

    return _DATA_IMAGE.sub(swap, html), images


def build_email(bundle: Bundle, target: EmailTarget) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = bundle.subject
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<digest-{bundle.idempotency_key}@voc.digest>"
    message["X-Voc-Digest"] = f"{bundle.department} {bundle.period_start} {bundle.period_end}"
    message.set_content(bundle.markdown())
    html, images = inline_images(bundle.html())
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[-1]
    for cid, png in images:
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    return message


def send_email(bundle: Bundle, target: EmailTarget) -> str:
    message = build_email(bundle, target)
    with smtplib.SMTP(target.host, target.port, timeout=target.timeout) as smtp:
        if target.starttls:
            smtp.starttls()
        if target.username:
            password = os.environ.get(SMTP_PASSWORD_ENV)
            if password is None:
                raise DeliveryConfigError(f"smtp username set but ${SMTP_PASSWORD_ENV} is not")
            smtp.login(target.username, password)
        refused = smtp.send_message(message)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return f"accepted by {target.host}:{target.port} for {len(target.to)} recipient(s)"


def webhook_payload(bundle: Bundle, target: WebhookTarget) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "text": bundle.markdown(),
        "subject": bundle.subject,
        "department": bundle.department,
        "period_start": bundle.period_start,
        "period_end": bundle.period_end,
        "link": (target.link_base.rstrip("/") + "/" + bundle.html_path.name)
        if target.link_base
        else None,
    }
    if target.include_html:
        payload["html"] = bundle.html()
    return payload


def post_webhook(bundle: Bundle, target: WebhookTarget) -> str:
    body = json.dumps(webhook_payload(bundle, target)).encode("utf-8")
    request = urllib.request.Request(
        target.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": bundle.idempotency_key,
            "User-Agent": "voc-digest",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=target.timeout) as response:
            return f"HTTP {response.status} from {_host(target.url)}"
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"HTTP {error.code} {error.reason} from {_host(target.url)}") from None


def _host(url: str) -> str:
    """A webhook URL's host only: the path of a chat webhook is its secret."""
    return urllib.parse.urlsplit(url).netloc


class DeliveryError(Exception):
    """A receiver said no (an HTTP error status)."""


def send(bundle: Bundle, channel: str, target: EmailTarget | WebhookTarget) -> str:
    if channel == "email":
        assert isinstance(target, EmailTarget)
        return send_email(bundle, target)
    assert isinstance(target, WebhookTarget)
    return post_webhook(bundle, target)
