"""Run :class:`voc.transforms.sources.pull_pubsub.PullSession` as a root of the legacy DirectRunner.

Why not a splittable DoFn: unbounded SDFs do not run on the legacy DirectRunner
in streaming mode (checked on Beam 2.77). The runner does let a root transform
be evaluated natively, which is how its own Pub/Sub read works; this module
registers one more such evaluator. It relies on the DirectRunner's internal
evaluator registry, which is why ``apache-beam`` is pinned exactly and
``tests/transforms/sources/test_read_feedback.py`` runs it for real on every change.

Each evaluation asks the session for one batch and emits it as one bundle, then
reschedules itself. Elements carry their event time (the ``event_time``
attribute; see :func:`voc.transforms.sources.source_watermark.stamp_messages`), and
the watermark hold is the session's event-time watermark (the rule is
:func:`voc.transforms.sources.source_watermark.next_watermark`), not the wall
clock: a backlog of old surveys is on time, not late on arrival. Until an event
time was read the hold is Beam's minimum timestamp.

Once the session may finish (drain asked and nothing outstanding) it releases its
watermark hold, so the watermark reaches +inf and ``wait_until_finish()``
returns: a clean end, with every pulled message acked.
"""

from __future__ import annotations

import time
from datetime import datetime

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.runners.direct.transform_evaluator import (
    TransformEvaluatorRegistry,
    _TransformEvaluator,
)
from apache_beam.runners.direct.util import TransformResult
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from voc.transforms.sources.session_registry import get_session
from voc.transforms.sources.source_watermark import WATERMARK_MIN, epoch_micros

# How long an evaluation waits when there was nothing to pull, so an idle job
# does not spin a core.
_IDLE_SLEEP_SECONDS = 0.05


class PullFromSession(beam.PTransform):
    """Root transform whose output is the messages a registered PullSession pulls."""

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    def get_windowing(self, unused_inputs):
        return beam.Windowing(GlobalWindows())

    def expand(self, pbegin):
        # Evaluated natively by _PullFromSessionEvaluator; nothing to expand.
        return pvalue.PCollection(pbegin.pipeline, is_bounded=False)


class _PullFromSessionEvaluator(_TransformEvaluator):
    def start_bundle(self) -> None:
        pass

    def process_element(self, element) -> None:
        pass

    def finish_bundle(self) -> TransformResult:
        transform: PullFromSession = self._applied_ptransform.transform
        session = get_session(transform.session_id)
        if session.should_finish():
            session.mark_finished()
            return TransformResult(self, [], [], None, {None: None})

        messages = session.pull_timed_batch()
        bundles = []
        if messages:
            bundle = self._evaluation_context.create_bundle(next(iter(self._outputs)))
            for message, micros in messages:
                bundle.output(
                    GlobalWindows.windowed_value(message, timestamp=Timestamp(micros=micros))
                )
            bundles.append(bundle)
        else:
            time.sleep(_IDLE_SLEEP_SECONDS)

        reschedule = self._evaluation_context.create_bundle(
            pvalue.PBegin(self._applied_ptransform.transform.pipeline)
        )
        return TransformResult(
            self, bundles, [reschedule], None, {None: beam_watermark(session.watermark)}
        )


def beam_watermark(watermark: datetime) -> Timestamp:
    """The session's watermark as the runner's hold; its minimum is Beam's minimum."""
    if watermark <= WATERMARK_MIN:
        return MIN_TIMESTAMP
    return Timestamp(micros=epoch_micros(watermark))


def register_evaluator() -> None:
    """Teach the legacy DirectRunner to evaluate PullFromSession. Idempotent."""
    TransformEvaluatorRegistry._test_evaluators_overrides[PullFromSession] = (
        _PullFromSessionEvaluator
    )


register_evaluator()
