"""The event-time branches after the fact sink: join, repeat contacts, rollups and alerts.

    stored facts -+-> ShardByInteraction -> JoinInteractions -+-> interactions, joined flags
                  |                                          +-> contacts -> ShardByCustomer
                  |                 -> FindRepeatContacts -> repeat rows
                  +-> ShardByCause -> RollupWindows -> rollup rows, late events, alerts
    all rows -> the derived sink

The input is what the fact sink committed for the first time (and, at a start,
the recent facts replayed from the tables), so nothing here holds an ack handle
and everything here can be recomputed from the facts.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam.pvalue import PCollection

from voc.transforms.derived.cause_alerts import CauseHistory
from voc.transforms.derived.find_repeat_contacts import FindRepeatContactsFn
from voc.transforms.derived.interactions import Contact
from voc.transforms.derived.join_interactions import CONTACTS, JoinInteractionsFn
from voc.transforms.derived.rollup_windows import RollupWindowsFn, rollup_keys_of
from voc.transforms.derived.settings import EventTimeSettings
from voc.transforms.derived.shard_batches import ShardBatches
from voc.transforms.records import StoredFact


def interaction_key(element: StoredFact | CauseHistory) -> tuple[str, ...]:
    """A fact's interaction; a cause's alert history (at a start) has none to join."""
    return (element.interaction_id,) if isinstance(element, StoredFact) else ()


def customer_key(contact: Contact) -> tuple[str]:
    return (contact.customer_id,)


class DeriveFromFacts(beam.PTransform):
    """PCollection[StoredFact | CauseHistory] (event-timestamped) -> the derived rows,
    by branch. CauseHistory (a restart's stored alert history) reaches the rollups only."""

    def __init__(self, settings: EventTimeSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, facts) -> dict[str, PCollection]:
        shards = self.settings.state_shards
        joined = (
            facts
            | "ShardByInteraction" >> ShardBatches(interaction_key, shards)
            | "JoinInteractions"
            >> beam.ParDo(JoinInteractionsFn(self.settings)).with_outputs(CONTACTS, main="rows")
        )
        repeats = (
            joined[CONTACTS]
            | "ShardByCustomer" >> ShardBatches(customer_key, shards)
            | "FindRepeatContacts" >> beam.ParDo(FindRepeatContactsFn(self.settings))
        )
        rollups = (
            facts
            | "ShardByCause" >> ShardBatches(rollup_keys_of, shards, every_shard=True)
            | "RollupWindows" >> beam.ParDo(RollupWindowsFn(self.settings))
        )
        rows = (joined.rows, repeats, rollups) | "AllDerivedRows" >> beam.Flatten()
        return {
            "rows": rows,
            "interactions": joined.rows,
            "repeat_contacts": repeats,
            "rollups": rollups,
        }
