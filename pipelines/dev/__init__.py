"""Trying voc and developing it: the demo, the emulator, the generator, chaos runs."""

# `voc demo`'s defaults: three weeks ending now (hourly rollups, a week-on-week
# comparison, repeat contacts), at a volume where the planted surge stands out.
DEMO_EVENTS = 12_000
DEMO_DAYS = 21
