"""``voc taxonomy explain``: why a text got (or did not get) each cause.

The person who owns a taxonomy fixes it one surprising tag at a time, and needs to
see what the matcher saw: the words after normalising (abbreviations expanded,
hashtags split, spellings fixed), every rule that fired and on which characters,
and the rules that fired but did not count, with the reason (a negation, an
exclusion).
"""

from __future__ import annotations

from voc.transforms.feedback_tokens import tokenize
from voc.transforms.match_root_causes import find_hits, match_root_causes
from voc.transforms.taxonomy import UNCLASSIFIED, Taxonomy

__all__ = ["explain"]


def explain(text: str, taxonomy: Taxonomy) -> str:
    tokens = tokenize(text, taxonomy.vocabulary)
    lines = [
        f"taxonomy  {taxonomy.label}",
        f"words     {' '.join(token.word for token in tokens)}",
        f"roots     {' '.join(token.root for token in tokens)}",
        "",
    ]
    matches = match_root_causes(text, taxonomy)
    for match in matches:
        if match.cause_id == UNCLASSIFIED:
            lines.append(f"{UNCLASSIFIED}: no rule fired -> {match.department}")
            continue
        sub = f" / {match.sub_cause_id}" if match.sub_cause_id else ""
        lines.append(
            f"{match.cause_id}{sub} -> {match.department} (confidence {match.confidence:.2f})"
        )
        for span in match.spans:
            where = f"[{span.start}:{span.end}]" if span.start >= 0 else "[note]"
            lines.append(f"  {span.rule_id:<36} {where:<10} {span.text!r}")
    vetoed = [hit for hit in find_hits(text, taxonomy) if hit.vetoed]
    if vetoed:
        lines += ["", "fired but did not count:"]
        for hit in vetoed:
            lines.append(
                f"  {hit.rule.id:<36} [{hit.start}:{hit.end}] {text[hit.start : hit.end]!r}: "
                f"{hit.vetoed}"
            )
    return "\n".join(lines)
