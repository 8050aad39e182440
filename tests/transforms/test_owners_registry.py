"""The owners registry: the packaged file is valid, every mistake is one line naming
the file, line and field, and the job turns it into the departments table's rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voc.pipelines.options import ConfigError, owned_departments
from voc.transforms.owners_registry import (
    OwnersRegistryError,
    cron_problem,
    department_rows,
    load_owners,
    packaged_path,
    parse_owners,
)
from voc.transforms.taxonomy import load_taxonomy

GENERIC = load_taxonomy().departments


def test_the_packaged_registry_names_every_generic_department():
    registry = load_owners(departments=GENERIC)
    assert set(registry.owners) == set(GENERIC)
    billing = registry.owners["billing"]
    assert billing.delivery.kind == "email" and billing.schedule == "0 7 * * 1-5"
    assert {o.delivery.kind for o in registry.owners.values()} == {"file", "email", "webhook"}
    assert packaged_path().name == "owners.yaml"


def test_department_rows_cover_the_taxonomy_with_json_schedule_and_delivery():
    registry = parse_owners(
        "version: 1\ndepartments:\n  billing:\n    owner: B\n    contact: b@example.com\n"
        "    digest: {schedule: '0 7 * * 1', timezone: Europe/Berlin}\n"
        "    delivery: {kind: webhook, url: 'https://chat.example.com/h'}\n",
        "owners.yaml",
        GENERIC,
    )
    rows = {row["department"]: row for row in department_rows(GENERIC, registry)}
    assert set(rows) == set(GENERIC)
    assert json.loads(rows["billing"]["digest_schedule"]) == {
        "cron": "0 7 * * 1",
        "timezone": "Europe/Berlin",
    }
    assert json.loads(rows["billing"]["delivery"]) == {
        "kind": "webhook",
        "url": "https://chat.example.com/h",
    }
    assert rows["docs"]["owner"] is None and json.loads(rows["docs"]["delivery"]) == {
        "kind": "file"
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  billingz: {owner: x}", "o.yaml:3: departments.billingz: unknown department"),
        (
            "  billing: {digest: {schedule: '61 * * * *'}}",
            "departments.billing.digest.schedule: bad cron: '61 * * * *': minute field",
        ),
        ("  billing: {digest: {schedule: '0 7 * *'}}", "a cron expression has 5 fields"),
        (
            "  billing: {digest: {schedule: '0 7 * * 1', timezone: Mars/Olympus}}",
            "departments.billing.digest.timezone: unknown time zone 'Mars/Olympus'",
        ),
        ("  billing: {delivery: {kind: pigeon}}", "delivery.kind: must be one of file, email"),
        ("  billing: {delivery: {kind: email}}", "an email delivery needs to: (addresses)"),
        ("  billing: {delivery: {kind: email, to: [nobody]}}", "not an email address: 'nobody'"),
        ("  billing: {delivery: {kind: webhook, url: 'ftp://x'}}", "needs an http(s) url"),
        ("  billing: {contact: someone}", "departments.billing.contact: not an email address"),
        ("  billing: {pager: 123}", "departments.billing.pager: unknown key"),
    ],
)
def test_each_mistake_is_one_line_naming_the_place(entry: str, message: str):
    with pytest.raises(OwnersRegistryError) as error:
        parse_owners(f"version: 1\ndepartments:\n{entry}\n", "o.yaml", GENERIC)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_every_problem_is_reported_at_once():
    text = (
        "version: 1\ndepartments:\n  billing: {contact: x}\n"
        "  product: {delivery: {kind: webhook}}\n"
    )
    with pytest.raises(OwnersRegistryError) as error:
        parse_owners(text, "o.yaml", GENERIC)
    assert len(error.value.problems) == 2
    assert str(error.value).endswith("(and 1 more)")


@pytest.mark.parametrize(
    "expression",
    ["0 7 * * 1", "*/15 * * * *", "30 8 1,15 * mon-fri", "0 0 1 jan-mar *", "0 6 * * 7"],
)
def test_cron_expressions_crontab_accepts(expression: str):
    assert cron_problem(expression) is None


@pytest.mark.parametrize(
    "expression", ["@daily", "0 24 * * *", "0 7 * * 8", "0 7 0 * *", "5-1 * * * *", "*/0 * * * *"]
)
def test_cron_expressions_crontab_refuses(expression: str):
    assert cron_problem(expression)


def test_the_job_option_checks_the_file_against_its_taxonomy(tmp_path: Path):
    rows = owned_departments(None, None)
    assert {row["department"] for row in rows} == set(GENERIC)
    with pytest.raises(ConfigError, match=r"--owners .*: no such file"):
        owned_departments(str(tmp_path / "missing.yaml"), None)
    bad = tmp_path / "owners.yaml"
    bad.write_text("version: 1\ndepartments:\n  accounts: {owner: A}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="accounts: unknown department"):
        owned_departments(str(bad), None)


def test_the_packaged_registry_serves_another_pack_for_the_departments_they_share():
    rows = owned_departments(None, "pack:retail")
    departments = load_taxonomy(pack="retail").departments
    assert {row["department"] for row in rows} == set(departments)
