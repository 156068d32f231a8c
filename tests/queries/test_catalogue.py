"""The catalogue: texts use only the schema's vocabulary and declared parameters; binding checks types."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from chainrisk.errors import InvalidQueryParameter
from graph.runner import GraphRunner
from graph.schema import Label, RelType
from ingest.tables import TABLES
from queries.catalogue import CATALOGUE, Param, latest_as_of, run_query
from tests.queries._graph import AS_OF, U

_STRINGS = re.compile(r"'[^']*'")
#: Every property a catalogue query may read: the contract's stored columns and keys, and the
#: schema's own (runs, results, provenance).
_PROPERTIES = (
    {c for t in TABLES.values() for c in t.column_names}
    | {"uscc", "loan_id", "person_id", "key", "uid", "external", "run_id", "kind", "status", "as_of",
       "family",
       "risk_pd", "risk_tier", "stress_default_prob", "stress_systemic_impact", "risk_reasons",
       "risk_suggested_class", "risk_pd_change", "risk_segment", "risk_model_version"}
)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_text_uses_only_schema_labels_types_and_properties(name: str) -> None:
    text = _STRINGS.sub("''", CATALOGUE[name].text)
    labels = set(re.findall(r"\(\w*:([A-Za-z|]+)", text))
    for group in labels:
        assert set(group.split("|")) <= {str(m) for m in Label}, group
    for rel in re.findall(r"\[\w*:(\w+)", text):
        assert rel in {str(m) for m in RelType}, rel
    for prop in re.findall(r"\b[a-z]\w*\.`?([a-z_]+)`?", text):
        assert prop in _PROPERTIES, f"{name}: unknown property {prop!r}"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_parameters_match_the_text(name: str) -> None:
    q = CATALOGUE[name]
    used = set(re.findall(r"\$(\w+)", q.text))
    assert used == {p.name for p in q.params}
    assert q.doc and q.columns and q.row_cap >= 1 and q.timeout_s > 0
    for col in q.columns:
        assert re.search(rf"\b{col}\b", q.text), f"{name}: column {col} not returned"


def test_parameters_coerce_command_line_text() -> None:
    assert Param("d", "date", "").coerce("2024-06-30") == date(2024, 6, 30)
    assert Param("l", "list[str]", "").coerce("a, b,") == ["a", "b"]
    assert Param("b", "bool", "").coerce("yes") is True
    assert Param("u", "uscc", "").coerce(U["F"].lower()) == U["F"]
    with pytest.raises(InvalidQueryParameter, match="expected '"):
        Param("u", "uscc", "").coerce(U["F"][:-1] + ("0" if U["F"][-1] != "0" else "1"))
    with pytest.raises(InvalidQueryParameter, match=r"\[1, 5\]"):
        Param("n", "int", "", min=1, max=5).coerce("6")
    with pytest.raises(InvalidQueryParameter, match="required"):
        Param("q", "str", "", required=True).coerce(None)


def test_run_query_reads_at_the_latest_ingest_and_refuses_unknown_names(platform: GraphRunner) -> None:
    assert latest_as_of(platform) == date.fromisoformat(AS_OF)
    found = run_query(platform, "firm_search", {"q": "Firm S"})
    # S1..S7 are the firms whose name starts "Firm S"
    assert sorted(found["name"]) == [f"Firm S{i}" for i in range(1, 8)]
    with pytest.raises(InvalidQueryParameter, match="no query named"):
        run_query(platform, "nope")
    with pytest.raises(InvalidQueryParameter, match="no parameter"):
        run_query(platform, "firm_search", {"q": "x", "bogus": 1})


def test_row_cap_stops_the_stream(platform: GraphRunner) -> None:
    frame = run_query(platform, "firm_search", {"q": "Firm", "limit": 1000})
    assert len(frame) == 34 and frame.attrs["truncated"] is False
    capped = run_query(platform, "guarantee_links", {})
    assert not capped.attrs["truncated"] and len(capped) == 25  # one row per (guarantor, borrower)


def test_a_query_past_its_row_cap_is_cut_and_flagged(platform: GraphRunner,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # the same query with a cap of 3: 34 firms match, 3 come back, the frame says it was cut
    monkeypatch.setitem(CATALOGUE, "firm_search", dataclasses.replace(CATALOGUE["firm_search"], row_cap=3))
    frame = run_query(platform, "firm_search", {"q": "Firm", "limit": 1000})
    assert len(frame) == 3 and frame.attrs["truncated"] is True
    assert list(frame.columns) == list(CATALOGUE["firm_search"].columns)


def test_classification_mismatch_flags_without_correcting(platform: GraphRunner) -> None:
    frame = run_query(platform, "classification_mismatch", {})
    # LS4: 40 days overdue yet "normal" (at least special mention); LS1 (10 days, special mention) and
    # LM1 (100 days, substandard) agree with their bands
    assert frame[["loan_id", "classification", "at_least"]].values.tolist() == [
        ["LS4", "normal", "special_mention"]]
    assert frame.attrs["as_of"] == AS_OF
