"""The Pub/Sub topics and subscriptions voc expects, in one place.

The job's defaults, the emulator's provisioning, the generator and the
dead-letter replay all need the same names; a replay that sent an event type
to another topic than the one the job reads would strand it.
"""

from __future__ import annotations

DEFAULT_PROJECT = "voc-local"

SURVEYS_TOPIC = "surveys"
AGENT_NOTES_TOPIC = "agent-notes"
# Which topic carries each event type (dead-letter replays send them back there too).
TOPIC_FOR_EVENT_TYPE = {"survey": SURVEYS_TOPIC, "agent_note": AGENT_NOTES_TOPIC}
# Topic -> the subscription the pipeline reads it through.
TOPOLOGY = {SURVEYS_TOPIC: "surveys-voc", AGENT_NOTES_TOPIC: "agent-notes-voc"}
# Pub/Sub's minimum. The source extends the leases of messages still in flight,
# so this does not need to cover a slow bundle; what it bounds is how long the
# messages a crashed job had in flight wait before they are delivered again.
ACK_DEADLINE_SECONDS = 10
