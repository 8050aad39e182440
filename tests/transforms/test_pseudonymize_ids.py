"""Identifiers holding personal data become keyed pseudonyms; other ids stay as they are."""

from __future__ import annotations

import stat

import duckdb
import pytest

from tests.transforms.helpers import message, note_payload, survey_payload
from voc.transforms.parse_event import parse_message
from voc.transforms.pseudonymize_ids import (
    KEY_ENV,
    PseudonymKeyError,
    load_key,
    pseudonym,
    pseudonymize_ids,
)
from voc.transforms.sinks.duckdb_store import DuckDBStore, build_batch
from voc.transforms.tag_feedback import shared_taxonomy, tag_event

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
OTHER_KEY = bytes.fromhex("ffeeddccbbaa99887766554433221100")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_id", "jane.doe@example.com"),
        ("customer_id", "+44 20 7946 0958"),
        ("interaction_id", "call +44 7700 900123"),
        ("agent_id", "agent m.smith@example.org"),
        ("team", "GB82 WEST 1234 5698 7654 32"),
        ("customer_id", "4111 1111 1111 1111"),
    ],
)
def test_personal_identifiers_become_keyed_pseudonyms(field, value):
    replaced = pseudonymize_ids({field: value}, KEY)
    assert replaced == {field: pseudonym(value, KEY)}
    assert replaced[field].startswith("pii-") and len(replaced[field]) == 4 + 24
    assert pseudonym(value, KEY) == pseudonym(value, KEY) != pseudonym(value, OTHER_KEY)


@pytest.mark.parametrize(
    "value", ["c-1", "cus_8f3a2b", "int_5c70e55d1a790535", "care-phone-1", "agt_care_chat_001"]
)
def test_ordinary_identifiers_are_kept(value):
    assert pseudonymize_ids({"customer_id": value, "interaction_id": value}, KEY) == {}


def test_the_tables_hold_pseudonyms_and_a_contact_still_joins(tmp_path):
    taxonomy = shared_taxonomy(None)
    contact = "call +44 7700 900123"
    survey = parse_message(
        message(survey_payload(customer_id="jane.doe@example.com", interaction_id=contact))
    )
    note = parse_message(
        message(note_payload(interaction_id=contact), event_type="agent_note", message_id="n")
    )
    store = DuckDBStore(str(tmp_path / "voc.duckdb"))
    store.write(build_batch([tag_event(survey, taxonomy, KEY), tag_event(note, taxonomy, KEY)]))
    store.close()
    with duckdb.connect(str(tmp_path / "voc.duckdb"), read_only=True) as con:
        dump = " ".join(
            str(row)
            for table in ("surveys", "agent_notes", "feedback_tags", "interactions")
            for row in con.execute(f"select * from {table}").fetchall()
        )
        joined = con.execute("select interaction_id, complete from interaction_parts").fetchall()
    assert "jane.doe" not in dump and "7700" not in dump
    assert joined == [(pseudonym(contact, KEY), True)]


def test_the_key_comes_from_the_environment_first(monkeypatch, tmp_path):
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    assert load_key(str(tmp_path / "unused.key")) == KEY
    assert not (tmp_path / "unused.key").exists()


def test_a_missing_key_file_is_created_for_its_owner_only(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = tmp_path / "keys" / "pseudonym.key"
    first = load_key(str(path))
    assert len(first) == 32 and load_key(str(path)) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("text", ["", "not hex at all", "abc", "00" * 8])
def test_a_bad_key_is_one_line_naming_where_it_came_from(monkeypatch, tmp_path, text):
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = tmp_path / "pseudonym.key"
    path.write_text(text)
    with pytest.raises(PseudonymKeyError, match=f"{path}: expected 32 to 128 hex digits"):
        load_key(str(path))
