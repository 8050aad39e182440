"""What the chaos run did and found, as a printable report."""

from __future__ import annotations

from dataclasses import dataclass, field

from voc.pipelines.dev.chaos.job_process import Kill


@dataclass
class EmulatorRestart:
    """An emulator crash the job lived through."""

    after_seconds: float  # since the run that lived through it started
    down_seconds: float  # from the SIGKILL until the new emulator was provisioned
    republished: int
    requests: int
    # From the new emulator being provisioned until the job had committed a message
    # pulled from it: the proof it reconnected by itself.
    reconnected_after: float


@dataclass
class ChaosReport:
    published: int
    duplicates: int
    malformed: int
    seed: int
    oversized: list[int] = field(default_factory=list)  # their sizes in bytes
    conflicting: int = 0
    faults: list[Kill | EmulatorRestart] = field(default_factory=list)
    runs: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    # How the derived tables differ from a recomputation from the facts (None: not
    # checked yet); the state the kills lost must have been rebuilt.
    derived_differences: list[str] | None = None
    derived_rows: dict[str, int] = field(default_factory=dict)

    @property
    def kills(self) -> list[Kill]:
        return [fault for fault in self.faults if isinstance(fault, Kill)]

    @property
    def emulator_restarts(self) -> list[EmulatorRestart]:
        return [fault for fault in self.faults if isinstance(fault, EmulatorRestart)]

    @property
    def ok(self) -> bool:
        return (
            bool(self.tables)
            and all(
                row["missing"] == row["doubled"] == row["extra"] == 0
                and row["stored"] == row["expected"]
                for row in self.tables.values()
            )
            and self.derived_differences == []
        )

    def format(self) -> str:
        sizes = (
            f" {min(self.oversized) / 1e6:.2f}-{max(self.oversized) / 1e6:.2f} MB"
            if self.oversized
            else ""
        )
        lines = [
            f"published {self.published:,} messages ({self.duplicates:,} duplicate deliveries, "
            f"{self.malformed:,} malformed) + {len(self.oversized) + self.conflicting} hostile "
            f"({len(self.oversized)} oversized{sizes}, {self.conflicting} conflicting "
            f"duplicates); {self.runs} runs, {len(self.kills)} kill -9 of the job, "
            f"{_plural(len(self.emulator_restarts), 'emulator restart')}, {self.seconds:.0f} s "
            f"(seed {self.seed})",
        ]
        run, kills, restarts = 1, 0, 0
        for fault in self.faults:
            if isinstance(fault, Kill):
                kills += 1
                lines.append(
                    f"  kill {kills}: SIGKILL of run {run} {fault.after_seconds:.1f} s after its "
                    f"start, {fault.committed_in_run:,} messages committed by it, "
                    f"{fault.in_flight:,} in flight (to be delivered again)"
                )
                run += 1
            else:
                restarts += 1
                lines.append(
                    f"  emulator restart {restarts}: SIGKILL {fault.after_seconds:.1f} s into "
                    f"run {run}, back and provisioned {fault.down_seconds:.1f} s later, "
                    f"{fault.republished:,} messages re-published under their ids "
                    f"({fault.requests:,} requests); run {run} (not restarted) committed "
                    f"from it {fault.reconnected_after:.1f} s later"
                )
        lines.append(
            f"  {'table':<36} {'expected':>9} {'stored':>9} {'missing':>8} {'doubled':>8} "
            f"{'extra':>6}"
        )
        for table, row in self.tables.items():
            name = {"tags": "feedback_tags"}.get(table, table).replace("dead_letters/", "  ")
            lines.append(
                f"  {name:<36} {row['expected']:>9,} {row['stored']:>9,} "
                f"{row['missing']:>8,} {row['doubled']:>8,} {row['extra']:>6,}"
            )
        if self.derived_differences is not None:
            rows = ", ".join(f"{name} {count:,}" for name, count in self.derived_rows.items())
            lines.append(
                f"  derived tables ({rows}): "
                + (
                    "equal to a recomputation from the facts"
                    if not self.derived_differences
                    else "DIFFER from a recomputation from the facts:"
                )
            )
            lines.extend(f"    {line}" for line in self.derived_differences)
        lines.append("chaos: PASS, exactly once" if self.ok else "chaos: FAIL")
        return "\n".join(lines)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
