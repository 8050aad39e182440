"""Where every part of ``make bench`` writes its figures: bench/results/<day>[-part].{json,md}.

One function for all parts, so the files of one run sit side by side under the same day
and the JSON is always the whole results dict the Markdown was made from.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path


def write_result_files(
    results: dict, markdown: str, results_dir: Path, part: str = ""
) -> tuple[Path, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = datetime.now(UTC).strftime("%Y-%m-%d") + (f"-{part}" if part else "")
    json_path = results_dir / f"{stem}.json"
    md_path = results_dir / f"{stem}.md"
    json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path
