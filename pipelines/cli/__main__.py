"""``python -m voc.pipelines.cli``: the same as the ``voc`` command."""

import sys

from voc.pipelines.cli import main

sys.exit(main())
