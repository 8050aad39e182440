"""Table-driven evaluation of PII redaction against tests/transforms/pii_cases.py.

The unit tests in test_redact_pii.py pin individual rules; this table measures the
whole step on realistic sentences, so a rule change that fixes one format and breaks
another shows up as a rate, not as a surprise in a department table. A PII substring
counts as leaked unless every visible character of it lies inside a span of its own
kind (a half-redacted address such as ``o'<EMAIL>`` is a leak); a look-alike counts as
over-redacted if any span touches it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tests.transforms.pii_cases import LOOKALIKES, PII_CASES
from voc.transforms.redact_pii import PiiSpan, find_pii, redact_pii


def _occurrences(text: str, sub: str) -> Iterator[int]:
    """Start offsets of every occurrence of ``sub`` in ``text``."""
    start = text.find(sub)
    while start != -1:
        yield start
        start = text.find(sub, start + 1)


def _covered(text: str, start: int, end: int, spans: list[PiiSpan], kind: str) -> bool:
    """Whether every non-space character in [start, end) lies in a span of ``kind``."""
    return all(
        text[i].isspace() or any(s.kind == kind and s.start <= i < s.end for s in spans)
        for i in range(start, end)
    )


def _touched(start: int, end: int, spans: list[PiiSpan]) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _leaks(text: str, pii: tuple[tuple[str, str], ...]) -> list[str]:
    spans = find_pii(text)
    redacted = redact_pii(text)
    leaks = []
    for sub, kind in pii:
        whole = all(
            _covered(text, at, at + len(sub), spans, kind) for at in _occurrences(text, sub)
        )
        if not whole or sub in redacted or f"<{kind}>" not in redacted:
            leaks.append(f"LEAK {kind} {sub!r} in {text!r} -> {redacted!r}")
    return leaks


def _damage(text: str, keep: tuple[str, ...]) -> list[str]:
    spans = find_pii(text)
    redacted = redact_pii(text)
    return [
        f"OVER {sub!r} in {text!r} -> {redacted!r}"
        for sub in keep
        if sub not in redacted
        or any(_touched(at, at + len(sub), spans) for at in _occurrences(text, sub))
    ]


def table_report() -> tuple[float, float, list[str]]:
    """Leak rate, over-redaction rate and one line per failure, over the whole table."""
    leaks = [line for case in PII_CASES for line in _leaks(case.text, case.pii)]
    over = [line for case in PII_CASES for line in _damage(case.text, case.keep)]
    over += [line for case in LOOKALIKES for line in _damage(case.text, case.keep)]
    # A look-alike sentence holds no PII at all: anything redacted in it is over-redaction
    # even when the listed substrings survive.
    stray = [
        f"STRAY {case.text!r} -> {redact_pii(case.text)!r}"
        for case in LOOKALIKES
        if redact_pii(case.text) != case.text
    ]
    pii_total = sum(len(case.pii) for case in PII_CASES)
    keep_total = sum(len(case.keep) for case in (*PII_CASES, *LOOKALIKES))
    return len(leaks) / pii_total, len(over) / keep_total, leaks + over + stray


def _summary(leak_rate: float, over_rate: float, failures: list[str]) -> str:
    pii_total = sum(len(case.pii) for case in PII_CASES)
    keep_total = sum(len(case.keep) for case in (*PII_CASES, *LOOKALIKES))
    head = (
        f"leak rate {leak_rate:.1%} of {pii_total} PII substrings; "
        f"over-redaction rate {over_rate:.1%} of {keep_total} look-alikes"
    )
    return "\n".join([head, *failures])


def test_pii_table_is_well_formed() -> None:
    for case in PII_CASES:
        for sub, kind in case.pii:
            assert sub in case.text and kind in {"EMAIL", "PHONE", "CARD", "IBAN"}, case
        assert all(sub in case.text for sub in case.keep), case
    for look in LOOKALIKES:
        assert look.keep and all(sub in look.text for sub in look.keep), look
    assert len(PII_CASES) >= 60 and len(LOOKALIKES) >= 30


def test_pii_table() -> None:
    leak_rate, over_rate, failures = table_report()
    summary = _summary(leak_rate, over_rate, failures)
    print(summary)  # shown with -rP or -s: the rates on a passing run
    assert not failures, summary


if __name__ == "__main__":  # pragma: no cover - manual report
    print(_summary(*table_report()))
