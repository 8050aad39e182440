"""``python -m voc.pipelines.dev.chaos``: the chaos run (``make chaos``)."""

import sys

from voc.pipelines.dev.chaos.run import main

sys.exit(main())
