"""``voc tag``: tag an export of texts the way the pipeline would, without Pub/Sub or DuckDB.

Analysts try a taxonomy on last month's export before it routes anyone's work.
Each input row gives one JSON line: the row's own columns passed through, then
what the pipeline would store: the redacted text, sentiment label and score, the
text's language, and each cause with its parent, department, rule, evidence span
(offsets into the redacted text) and confidence. The same functions as the
streaming job tag it (redaction first, so no evidence carries PII).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from voc.transforms.detect_language import detect_language
from voc.transforms.tag_feedback import tag_text
from voc.transforms.taxonomy import UNCLASSIFIED, Taxonomy

__all__ = ["tag_row", "tag_rows"]


def tag_row(row: dict[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    tagged = tag_text(row["text"], taxonomy)
    causes = []
    for match in tagged.causes:
        if match.cause_id == UNCLASSIFIED:
            causes.append({"cause": UNCLASSIFIED, "department": match.department})
            continue
        best = match.spans[0]
        causes.append(
            {
                "cause": match.cause_id,
                "sub_cause": match.sub_cause_id or None,
                "department": match.department,
                "rule": best.rule_id,
                "evidence": best.text,
                "start": best.start,
                "end": best.end,
                "confidence": match.confidence,
            }
        )
    passed = {key: value for key, value in row.items() if key not in ("text", "_line")}
    return passed | {
        "text": tagged.text,
        "sentiment": tagged.sentiment.label,
        "sentiment_score": tagged.sentiment.compound,
        "language": detect_language(tagged.text),
        "causes": causes,
        "taxonomy": taxonomy.label,
    }


def tag_rows(rows: Iterable[dict[str, Any]], taxonomy: Taxonomy) -> Iterator[str]:
    for row in rows:
        yield json.dumps(tag_row(row, taxonomy), ensure_ascii=False)
