r"""Read saved Pub/Sub messages from JSON-lines files: the backfill's bounded source.

    files (glob, .gz by extension) -> chunks of lines -> ReceivedMessage | DeadLetter

A line is what ``voc generate --out`` writes (and :func:`read_jsonl` reads back):
``{"topic", "attributes": {...}, "data_b64"}``, plus optional ``message_id`` and
``publish_time`` when the history was exported from Pub/Sub. Other keys (the
generator's ground truth) are ignored. A line that is not JSON, or lacks what a
message needs, becomes a ``read`` dead letter holding the line's raw bytes and a
reason naming ``file:line``: history is loaded once, and one bad line must not
stop it or vanish.

Work is split in chunks of lines, not files: one large file would otherwise keep
one worker busy while the others wait. Planning a chunk needs only where its
first line starts (a newline count, no parsing); a gzip file is not seekable, so
its chunks decompress from the start and skip, which costs far less than tagging.

Selecting by event time (``--since``/``--until``) happens here, on the
``event_time`` attribute, before anything is parsed or tagged: the parser
refuses an event whose attribute differs from its payload's time, so for every
event that can be stored this is its event time. A message whose attribute is
missing or unreadable is kept (it becomes a dead letter): nothing says it is
outside the range.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from voc.transforms.parse_event import parse_timestamp
from voc.transforms.records import InvalidMessage, ReceivedMessage, to_dead_letter

# The stage and reason of a line that is not a saved message.
READ_STAGE = "read"
INVALID_LINE = "invalid_line"
# Lines per unit of work: large enough that per-chunk costs vanish, small enough
# that the last chunks keep every worker busy.
DEFAULT_LINES_PER_CHUNK = 2_000
# A line longer than this is not read whole (Pub/Sub's own limit is 10 MB, base64
# makes that ~13.4 MB); its dead letter keeps this much.
MAX_LINE_BYTES = 16 * 1024 * 1024
_READ_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileChunk:
    """Lines ``first_line`` .. ``first_line + lines - 1`` (1-based) of ``path``, the
    first starting at ``offset`` in the (decompressed) stream."""

    path: str
    offset: int
    first_line: int
    lines: int


@dataclass(frozen=True)
class TimeRange:
    """Event times ``since`` <= t < ``until``; None on either side: open."""

    since: datetime | None = None
    until: datetime | None = None

    def __contains__(self, when: datetime) -> bool:
        if self.since is not None and when < self.since:
            return False
        return self.until is None or when < self.until


ALL_TIME = TimeRange()


# -- files ---------------------------------------------------------------------


def match_inputs(patterns: list[str]) -> list[str]:
    """Every file the glob patterns match, sorted and without repeats; local paths or
    any filesystem Beam knows (gs://, s3:// with their extras). A pattern that matches
    nothing raises FileNotFoundError naming it."""
    found: set[str] = set()
    for pattern in patterns:
        matched = [m.path for result in FileSystems.match([pattern]) for m in result.metadata_list]
        if not matched:
            raise FileNotFoundError(f"--input {pattern}: no file matches")
        found.update(matched)
    return sorted(found)


def open_stream(path: str) -> BinaryIO:
    """The file's bytes, decompressed when its name ends in .gz."""
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if path.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def plan_chunks(path: str, lines_per_chunk: int = DEFAULT_LINES_PER_CHUNK) -> list[FileChunk]:
    """Split a file in chunks of ``lines_per_chunk`` lines by counting newlines."""
    chunks = []
    offset = 0  # of the current chunk's first line
    first_line = 1
    in_chunk = 0
    position = 0
    with open_stream(path) as stream:
        while block := stream.read(_READ_BLOCK):
            start = 0
            while True:
                newline = block.find(b"\n", start)
                if newline < 0:
                    break
                in_chunk += 1
                start = newline + 1
                if in_chunk == lines_per_chunk:
                    chunks.append(FileChunk(path, offset, first_line, in_chunk))
                    offset = position + start
                    first_line += in_chunk
                    in_chunk = 0
            ended_without_newline = not block.endswith(b"\n")
            position += len(block)
    if position > offset:
        # The lines after the last full chunk, the last one perhaps without a newline.
        chunks.append(FileChunk(path, offset, first_line, in_chunk + ended_without_newline))
    return chunks


def read_chunk(chunk: FileChunk) -> Iterator[tuple[int, bytes]]:
    """(line number, line bytes without its newline) of every line of the chunk."""
    with open_stream(chunk.path) as stream:
        stream.seek(chunk.offset)
        for number in range(chunk.first_line, chunk.first_line + chunk.lines):
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                _skip_rest_of_line(stream)
            yield number, line.rstrip(b"\r\n")


def _skip_rest_of_line(stream: io.BufferedIOBase) -> None:
    while (rest := stream.readline(_READ_BLOCK)) and not rest.endswith(b"\n"):
        pass


# -- lines -> messages -------------------------------------------------------------


def message_from_line(line: bytes, where: str) -> ReceivedMessage:
    """The saved message on one line; InvalidMessage(``invalid_line``) says why not."""
    if len(line) > MAX_LINE_BYTES:
        raise InvalidMessage(INVALID_LINE, f"{where}: line longer than {MAX_LINE_BYTES:,} bytes")
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        first = (str(error).splitlines() or [type(error).__name__])[0][:200]
        raise InvalidMessage(INVALID_LINE, f"{where}: not JSON: {first}") from None
    if not isinstance(record, dict):
        raise InvalidMessage(
            INVALID_LINE, f"{where}: a JSON {type(record).__name__}, not an object"
        )
    attributes = record.get("attributes")
    if not isinstance(attributes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
    ):
        raise InvalidMessage(INVALID_LINE, f"{where}: 'attributes' is not an object of strings")
    data = record.get("data_b64")
    if not isinstance(data, str):
        raise InvalidMessage(INVALID_LINE, f"{where}: 'data_b64' (the payload) is missing")
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMessage(INVALID_LINE, f"{where}: 'data_b64' is not base64") from None
    return ReceivedMessage(
        data=payload,
        attributes=attributes,
        message_id=_optional_text(record, "message_id", where),
        publish_time=_publish_time(record, where),
    )


def _optional_text(record: dict[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidMessage(INVALID_LINE, f"{where}: '{key}' is not a string")
    return value


def _publish_time(record: dict[str, Any], where: str) -> datetime | None:
    text = _optional_text(record, "publish_time", where)
    if not text:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as error:
        raise InvalidMessage(INVALID_LINE, f"{where}: publish_time: {error}") from None


def line_message(line: bytes) -> ReceivedMessage:
    """What a dead letter of an unreadable line keeps: the line itself, no attributes;
    its id is then the line's content hash, the same at every run over the file."""
    return ReceivedMessage(data=line, attributes={}, message_id="", publish_time=None)


def selected(message: ReceivedMessage, time_range: TimeRange) -> bool:
    """Inside the range by its event_time attribute; kept when that cannot be read."""
    if time_range == ALL_TIME:
        return True
    text = message.attributes.get("event_time")
    if not text:
        return True
    try:
        when = parse_timestamp(text)
    except ValueError:
        return True
    return when in time_range


# -- Beam ----------------------------------------------------------------------------


class ReadChunkFn(beam.DoFn):
    """FileChunk -> ReceivedMessage (main) and, on DEAD_LETTERS, unreadable lines."""

    DEAD_LETTERS = "dead_letters"

    def __init__(self, time_range: TimeRange = ALL_TIME) -> None:
        self.time_range = time_range
        self.lines = Metrics.counter("voc.backfill", "lines_read")
        self.outside = Metrics.counter("voc.backfill", "outside_range")
        self.invalid = Metrics.counter("voc.backfill", "invalid_lines")

    def process(self, chunk: FileChunk):
        read = outside = 0
        for number, line in read_chunk(chunk):
            if not line.strip():
                continue
            read += 1
            try:
                message = message_from_line(line, f"{chunk.path}:{number}")
            except InvalidMessage as error:
                self.invalid.inc()
                dead = to_dead_letter(line_message(line), READ_STAGE, error)
                yield beam.pvalue.TaggedOutput(self.DEAD_LETTERS, dead)
                continue
            if selected(message, self.time_range):
                yield message
            else:
                outside += 1
        self.lines.inc(read)
        self.outside.inc(outside)


class ReadFeedbackFiles(beam.PTransform):
    """PBegin -> DoOutputsTuple with ``messages`` and ``dead_letters``.

    The file list and the chunk plans are redistributed (a Reshuffle of small
    descriptors), so reading, parsing, tagging and staging of a chunk then run fused
    in one worker, without moving any message between processes.
    """

    def __init__(
        self,
        paths: list[str],
        time_range: TimeRange = ALL_TIME,
        lines_per_chunk: int = DEFAULT_LINES_PER_CHUNK,
    ) -> None:
        super().__init__()
        self.paths = paths
        self.time_range = time_range
        self.lines_per_chunk = lines_per_chunk

    def expand(self, pbegin):
        per_chunk = self.lines_per_chunk
        return (
            pbegin
            | "Files" >> beam.Create(self.paths)
            | "PlanChunks" >> beam.FlatMap(plan_chunks, per_chunk)
            | "SpreadChunks" >> beam.Reshuffle()
            | "ReadChunks"
            >> beam.ParDo(ReadChunkFn(self.time_range)).with_outputs(
                ReadChunkFn.DEAD_LETTERS, main="messages"
            )
        )
