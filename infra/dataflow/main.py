"""Flex Template entry point (FLEX_TEMPLATE_PYTHON_PY_FILE): build the voc job and submit it.

The launcher runs ``python main.py --project=... --surveys_subscription=...``;
everything is in flex_template.py beside this file.
"""

import sys

from flex_template import launch

if __name__ == "__main__":
    sys.exit(launch(sys.argv[1:]))
