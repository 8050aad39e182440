"""``voc tag``: tag an export of texts the way the pipeline would, without Pub/Sub or DuckDB.

Analysts try a taxonomy on last month's export before it routes anyone's work.
Each input row gives one JSON line: the row's own columns passed through, then
what the pipeline would store: the redacted text, sentiment label, score and
confidence, the text's language, and each cause with its parent, department, rule,
evidence span (offsets into the redacted text), confidence and the sentiment of
the sentence its evidence is in. ``--model`` blends in a learned model as ``voc
run --model`` does. The same functions as the
streaming job tag it (redaction first, so no evidence carries PII).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from voc.transforms.tag_feedback import tag_text
from voc.transforms.taxonomy import UNCLASSIFIED, Taxonomy

if TYPE_CHECKING:
    from voc.transforms.learned_model import LearnedModel

__all__ = ["tag_row", "tag_rows"]


def tag_row(
    row: dict[str, Any], taxonomy: Taxonomy, model: LearnedModel | None = None
) -> dict[str, Any]:
    tagged = tag_text(row["text"], taxonomy, model=model)
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
                "sentiment": match.sentiment,
            }
        )
    passed = {key: value for key, value in row.items() if key not in ("text", "_line")}
    return passed | {
        "text": tagged.text,
        "sentiment": tagged.sentiment.label,
        "sentiment_score": tagged.sentiment.compound,
        "sentiment_confidence": tagged.sentiment.confidence,
        "language": tagged.sentiment.language,
        "model": tagged.sentiment.model_version or None,
        "causes": causes,
        "taxonomy": taxonomy.label,
    }


def tag_rows(
    rows: Iterable[dict[str, Any]], taxonomy: Taxonomy, model: LearnedModel | None = None
) -> Iterator[str]:
    for row in rows:
        yield json.dumps(tag_row(row, taxonomy, model), ensure_ascii=False)
