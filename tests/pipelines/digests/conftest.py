"""Fixtures of the digest tests: a known database, a real SMTP server, real HTTP receivers.

The SMTP server is aiosmtpd's, listening on a free localhost port for the test;
the webhook receiver is Python's http.server in a thread, answering with the
statuses a test scripts (500, 500, then 200). Both are started and stopped here;
nothing is mocked.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.pipelines.digests.database import build


@pytest.fixture(scope="session")
def digest_db(tmp_path_factory) -> Path:
    """The database of tests/pipelines/digests/database.py; read-only for the tests."""
    return build(tmp_path_factory.mktemp("digest-db") / "voc.duckdb")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the SMTP server received: parsed messages and their envelopes."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd's handler hook
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox("127.0.0.1", free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    try:
        controller.start()
    except Exception as error:  # a missing component fails, never skips
        pytest.fail(f"could not start the aiosmtpd SMTP server: {error}")
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A webhook receiver answering each POST with the next scripted status (the last
    one repeats), recording what it received."""

    statuses: list[int]
    url: str = ""
    requests: list[dict] = field(default_factory=list)

    def answer(self) -> int:
        index = min(len(self.requests) - 1, len(self.statuses) - 1)
        return self.statuses[index]


@pytest.fixture
def webhook_receiver() -> Iterator[callable]:
    servers: list[ThreadingHTTPServer] = []

    def start(*statuses: int) -> Receiver:
        receiver = Receiver(list(statuses) or [200])

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(body),
                        "at": time.monotonic(),
                    }
                )
                status = receiver.answer()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args) -> None:  # keep the test output clean
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/secret-token"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
