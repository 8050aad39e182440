"""Chaos check: crash the job and the emulator mid-stream, slip hostile messages in, and
prove nothing was lost or doubled.

    make chaos                        # 20,000 events, 3 kills, 1 emulator restart, 20 hostile
    python -m voc.pipelines.dev.chaos --events 5000 --kills 5 --emulator-restarts 2 --hostile 40

What it does: publish N generated events (~1% duplicate deliveries, ~1% malformed),
start ``voc run`` as a child process and inflict three kinds of fault while it is
committing, at random points:

- **kill -9 of the job** (``--kills``): SIGKILL, no drain, no cleanup; the job is
  started again each time.
- **kill -9 of the emulator** (``--emulator-restarts``): SIGKILL of its process group,
  then a new emulator on the same host:port. The job is *not* restarted: it has to
  ride out failed pulls and acknowledgements and carry on by itself.
- **a burst of hostile messages** (``--hostile``), published while the job is down
  after its first kill: messages over the 2 MiB limit (up to Pub/Sub's 10 MB), and
  conflicting duplicates, i.e. other content under the event_id of an event already
  committed (a survey edited, a note edited, a note reusing a survey's id, a survey
  reusing a note's id). Publishing them only once their originals are committed is
  what makes "the first version stays" deterministic: two versions published close
  together would be stored in whichever order Pub/Sub delivers them.

A last run then drains the subscriptions, and the DuckDB file must hold exactly what
a single perfect run would (see :func:`expected_outcome`): every valid unique event
once in ``surveys`` / ``agent_notes`` in its first version; exactly the tags the
packaged taxonomy gives those versions; every message the parser refuses (malformed,
``too_large``) and every later version of an id (``conflicting_duplicate``) once in
``dead_letters``, by Pub/Sub message id and reason. Missing, doubled and extra must
all be zero.

Why it can pass: the local source acknowledges a message only after the rows made
from it are committed, so a kill leaves everything uncommitted on the subscription
and Pub/Sub delivers it again once its (short) lease runs out; the sink keys every
row, so a redelivery of something committed just before the kill adds nothing. See
docs/architecture.md, "Delivery".

Which emulator-restart model: the emulator does **not** survive a restart. Tested
with ``--data-dir`` (which voc always passes): topics, subscriptions and
unacknowledged messages are gone after a ``kill -9`` and after a clean SIGTERM alike;
the directory only ever holds an ``env.yaml``; and message ids start again at 1. So
after each restart the harness provisions the topics and subscriptions again on the
same host:port (the job keeps its address) and, since it cannot know which messages
the job had acknowledged, re-publishes *all* of them. It re-publishes them in the
order of their ids, one request per run of consecutive ids on one topic, and checks
that each got its old id back: to the job a re-published message is then exactly a
redelivery, which the sink's keys absorb. A re-publish under new ids would not be:
a malformed message would get a second dead letter under its new id, and, worse, a
new message could be given an id an old, different one had, and two dead letters
sharing ``msg:<id>`` are one row, so one of them would be lost.
"""

from voc.pipelines.dev.chaos.job_process import JobProcess, Kill
from voc.pipelines.dev.chaos.outcome import Outcome, compare, expected_outcome, observed_outcome
from voc.pipelines.dev.chaos.report import ChaosReport, EmulatorRestart
from voc.pipelines.dev.chaos.run import main, run_chaos

__all__ = [
    "ChaosReport",
    "EmulatorRestart",
    "JobProcess",
    "Kill",
    "Outcome",
    "compare",
    "expected_outcome",
    "main",
    "observed_outcome",
    "run_chaos",
]
