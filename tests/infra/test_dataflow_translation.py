"""The streaming job as Dataflow would receive it, translated by DataflowRunner itself.

The job is built exactly as the Flex Template's launcher builds it
(infra/dataflow/flex_template.py) and run with ``--dry_run=True``: DataflowRunner
applies its overrides, translates the graph to the Runner API and builds the job
request, then returns before staging or submitting anything. The checks read
that translated job: only primitives Dataflow executes, the native Pub/Sub read
with its id and timestamp attributes, and stateful steps Dataflow supports.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2

from tests.infra.flex_template_module import load
from voc.pipelines.options import validate
from voc.transforms.sources.source_watermark import EVENT_TIME_ATTRIBUTE

PROJECT = "voc-prod-123"
IMAGE = "europe-west1-docker.pkg.dev/voc-prod-123/voc/voc-dataflow:test"

# Leaf transforms (no sub-transforms) Dataflow Runner v2 executes in a streaming job.
# Composites are only structure; what runs is their leaves.
DATAFLOW_STREAMING_PRIMITIVES = {
    "beam:transform:impulse:v1",
    "beam:transform:pardo:v1",
    "beam:transform:flatten:v1",
    "beam:transform:group_by_key:v1",
    "beam:transform:window_into:v1",
    "beam:transform:pubsub_read:v1",
    "beam:transform:pubsub_write:v1",
    "beam:transform:pubsub_write:v2",
}
# Kinds of user state Dataflow supports (Python's ReadModifyWriteState is a bag).
SUPPORTED_STATE = {"beam:user_state:bag:v1"}
# The stateful steps of the derived branches (transforms/derived/).
STATEFUL_STEPS = {"RollupWindows", "JoinInteractionsFn", "FindRepeatContacts"}


LAKE_FLAGS = [
    "--sink=ducklake",
    "--catalog=postgres:dbname=voc host=10.20.0.3 user=voc",
    f"--data_path=gs://{PROJECT}-voc/lake",
]


def _translate(tmp: Path, extra: list[str]):
    """Build the job as the template's launcher does and translate it, without submitting."""
    key = tmp / "pseudonym.key"
    key.write_text("ab" * 32 + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VOC_PSEUDONYM_KEY", raising=False)  # the launcher's path: a key file
        pipeline, config = load().build_job(
            [
                "--runner=DataflowRunner",
                f"--project={PROJECT}",
                "--region=europe-west1",
                f"--temp_location=gs://{PROJECT}-voc/temp",
                "--streaming",
                f"--sdk_container_image={IMAGE}",
                "--dry_run=True",
                f"--pseudonym_key_file={key}",
                f"--duckdb={tmp / 'voc.duckdb'}",
                # a template parameter, written the template's way
                "--surveys_subscription=surveys-voc",
                *extra,
            ]
        )
        result = pipeline.run()
    assert not config.batched and config.id_attribute == "event_id"
    assert config.pseudonym_key == bytes.fromhex("ab" * 32)
    return config, result.job


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The whole graph, derived branches included (their stateful steps): translated."""
    return _translate(tmp_path_factory.mktemp("dataflow"), [])[1]


@pytest.fixture(scope="module")
def lake_job(tmp_path_factory):
    """The production graph: DuckLake sink, derived branches included."""
    return _translate(tmp_path_factory.mktemp("dataflow-lake"), LAKE_FLAGS)


JOBS = ["job", "lake_job"]


def _job(request, name):
    value = request.getfixturevalue(name)
    return value[1] if isinstance(value, tuple) else value


def _payload(transform, kind):
    return kind.FromString(transform.spec.payload)


def _leaves(components):
    return {tid: t for tid, t in components.transforms.items() if not t.subtransforms}


@pytest.mark.parametrize("name", JOBS)
def test_the_job_is_a_streaming_job_on_the_template_image(request, name):
    job = _job(request, name)
    from google.cloud.dataflow_v1beta3 import JobType

    assert job.proto.type == JobType.JOB_TYPE_STREAMING
    components = job.proto_pipeline.components
    images = {
        beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image
        for env in components.environments.values()
    }
    assert images == {IMAGE}


@pytest.mark.parametrize("name", JOBS)
def test_every_step_is_a_primitive_dataflow_runs(request, name):
    job = _job(request, name)
    components = job.proto_pipeline.components
    unsupported = {
        t.unique_name: t.spec.urn
        for t in _leaves(components).values()
        if t.spec.urn not in DATAFLOW_STREAMING_PRIMITIVES
    }
    assert unsupported == {}
    names = " ".join(t.unique_name for t in components.transforms.values())
    # Nothing of the local runner: no batched pull session, no replay from a file.
    assert "PullBatches" not in names and "ReplayStoredFacts" not in names


@pytest.mark.parametrize("name", JOBS)
def test_the_native_pubsub_read_carries_id_and_timestamp_attributes(request, name):
    job = _job(request, name)
    reads = [
        _payload(t, beam_runner_api_pb2.PubSubReadPayload)
        for t in _leaves(job.proto_pipeline.components).values()
        if t.spec.urn == "beam:transform:pubsub_read:v1"
    ]
    assert sorted(read.subscription for read in reads) == [
        f"projects/{PROJECT}/subscriptions/agent-notes-voc",
        f"projects/{PROJECT}/subscriptions/surveys-voc",
    ]
    for read in reads:
        assert read.id_attribute == "event_id"
        assert read.timestamp_attribute == EVENT_TIME_ATTRIBUTE
        assert read.with_attributes  # event_type, schema_version: the parser needs them


@pytest.mark.parametrize("name", JOBS)
def test_the_stateful_steps_use_state_and_timers_dataflow_supports(request, name):
    components = _job(request, name).proto_pipeline.components
    stateful = {}
    for transform in _leaves(components).values():
        if transform.spec.urn != "beam:transform:pardo:v1":
            continue
        payload = _payload(transform, beam_runner_api_pb2.ParDoPayload)
        if payload.state_specs or payload.timer_family_specs:
            stateful[transform.unique_name] = (transform, payload)
    found = {name.rsplit("/", 1)[-1].removeprefix("ParDo(").rstrip(")") for name in stateful}
    assert found == STATEFUL_STEPS
    event_time = beam_runner_api_pb2.TimeDomain.EVENT_TIME
    for transform, payload in stateful.values():
        assert {spec.protocol.urn for spec in payload.state_specs.values()} <= SUPPORTED_STATE
        assert {t.time_domain for t in payload.timer_family_specs.values()} == {event_time}
        # Dataflow cannot sort a streaming stateful step's input by time.
        assert not payload.requires_time_sorted_input
        # State is keyed: the main input must be key/value pairs.
        (main,) = [pid for tag, pid in transform.inputs.items() if tag not in payload.side_inputs]
        coder = components.coders[components.pcollections[main].coder_id]
        assert coder.spec.urn == "beam:coder:kv:v1"


def test_the_production_graph_writes_facts_and_derived_tables_to_the_lake(lake_job):
    config, job = lake_job
    assert config.lake is not None and config.lake.data_path == f"gs://{PROJECT}-voc/lake"
    assert config.derived
    assert load().production_problem(config) is None
    names = {t.unique_name for t in _leaves(job.proto_pipeline.components).values()}
    assert any(name.startswith("StoreDerived/") for name in names)
    assert not any("ReplayStoredFacts" in name for name in names)  # a local start's step


def test_the_launcher_refuses_a_duckdb_file_on_dataflow(tmp_path: Path):
    config = validate(
        PipelineOptions(
            ["--runner=DataflowRunner", f"--project={PROJECT}", f"--duckdb={tmp_path / 'x.db'}"]
        )
    )
    problem = load().production_problem(config)
    assert problem is not None and "--sink ducklake" in problem


def test_the_launcher_refuses_to_make_up_a_pseudonym_key(monkeypatch, tmp_path: Path):
    template = load()
    monkeypatch.delenv("VOC_PSEUDONYM_KEY", raising=False)
    with pytest.raises(template.TemplateError, match="--pseudonym_key_file is required"):
        template.build_job(["--runner=DataflowRunner", f"--project={PROJECT}"])
    missing = tmp_path / "nothing.key"
    with pytest.raises(template.TemplateError, match="cannot read"):
        template.build_job([f"--pseudonym_key_file={missing}"])
    assert not missing.exists()  # never created, unlike voc run's local default
