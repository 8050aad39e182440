"""Exponential delays with jitter, for anything that retries a condition that may pass.

The sink retries a locked file or a full disk, the Pub/Sub source a subscription
whose pulls fail; both back off the same way, and jitter keeps several writers or
subscriptions from retrying in step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential delays with jitter, so several writers do not retry in step."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        base = min(self.cap, self.first * self.factor**attempt)
        spread = base * self.jitter
        return max(0.0, base + (rng or random).uniform(-spread, spread))
