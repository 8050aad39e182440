"""infra/dataflow/flex_template.py is a script copied into the template image, not a
package module; the tests load it from its file, under the name main.py imports."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATAFLOW = ROOT / "infra" / "dataflow"


def load():
    if "flex_template" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "flex_template", DATAFLOW / "flex_template.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["flex_template"] = module
        spec.loader.exec_module(module)
    return sys.modules["flex_template"]
