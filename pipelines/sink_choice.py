"""Which sink a job writes to: the ``--duckdb`` file, or the lake of ``--sink ducklake``.

Checked before the job starts, so a wrong catalog is one line (exit 2), not a job
retrying forever: in-process runs also open the lake now (attach, migrate); on
Dataflow the workers open it.
"""

from __future__ import annotations

from voc.pipelines.arguments import ConfigError
from voc.transforms.sinks.ducklake_catalog import LakeSpec, LakeSpecError, parse_catalog


def lake_sink(
    sink: str | None, catalog: str | None, data_path: str | None, *, in_process: bool
) -> LakeSpec | None:
    """The lake of ``--sink ducklake`` (None for the file sink), checked."""
    sink = sink or "duckdb"
    if sink != "ducklake":
        if catalog is not None or data_path is not None:
            flag = "--catalog" if catalog is not None else "--data-path"
            raise ConfigError(f"{flag} is for --sink ducklake (the sink is {sink})")
        return None
    if not catalog:
        raise ConfigError("--sink ducklake needs --catalog 'postgres:dbname=... host=...'")
    if not data_path:
        raise ConfigError("--sink ducklake needs --data-path (a directory, gs://... or s3://...)")
    try:
        spec = parse_catalog(catalog, data_path)
    except LakeSpecError as error:
        raise ConfigError(f"--catalog: {error}") from None
    if in_process:
        from voc.transforms.error_text import first_line
        from voc.transforms.sinks.ducklake_store import shared_lake_store

        try:
            shared_lake_store(spec).open()
        except Exception as error:  # duckdb.Error, ExtensionMissing
            raise ConfigError(f"--catalog {spec.describe()}: {first_line(error, 300)}") from None
    return spec
