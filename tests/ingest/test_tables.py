"""The contract and its table -> graph map (``ingest.tables``)."""

from __future__ import annotations

import dataclasses

import pytest

from graph.schema import CONSTRAINTS, Label, RelType
from ingest.tables import CONTRACT, ENDPOINT_NODES, LOAD_ORDER, TABLES, Column, Contract, NodeMap, RelMap


def test_the_contract_uses_only_the_schema_vocabulary() -> None:
    """What makes graph.schema's claim true: labels and types come from its enums."""
    labels, types = {str(x) for x in Label}, {str(x) for x in RelType}
    for spec in TABLES.values():
        g = spec.graph
        if isinstance(g, NodeMap):
            assert g.label in labels and g.link in types, spec.name
        else:
            assert g.type in types, spec.name
    assert {label for label, _ in ENDPOINT_NODES.values()} <= labels


def test_every_key_the_loads_look_up_is_constrained() -> None:
    statements = " ".join(q for _, q in CONSTRAINTS)
    for spec in TABLES.values():
        g = spec.graph
        if isinstance(g, NodeMap):
            assert f"(n:{g.label}) REQUIRE n.{g.id_property} IS UNIQUE" in statements, spec.name
        else:
            assert f"[r:{g.type}]-() REQUIRE r.uid IS UNIQUE" in statements, spec.name
    for label, prop in ENDPOINT_NODES.values():
        assert f"(n:{label}) REQUIRE n.{prop} IS UNIQUE" in statements


def test_a_contract_needs_each_table_once_in_its_load_order() -> None:
    with pytest.raises(ValueError, match="load order"):
        Contract(TABLES, LOAD_ORDER[:-1])
    with pytest.raises(ValueError, match="load order"):
        Contract(TABLES, (*LOAD_ORDER, "firms"))  # a table twice would be streamed twice
    assert CONTRACT.load_order == LOAD_ORDER and CONTRACT["supply"] is TABLES["supply"]


def test_with_table_replaces_one_table() -> None:
    supply = TABLES["supply"]
    wider = dataclasses.replace(supply, columns=(*supply.columns, Column("incoterm", "str")))
    c = CONTRACT.with_table(wider)
    assert c["supply"] is wider and c["firms"] is TABLES["firms"] and CONTRACT["supply"] is supply
    with pytest.raises(KeyError):
        CONTRACT.with_table(dataclasses.replace(supply, name="nope"))


def test_stored_properties_and_identities_follow_from_the_map() -> None:
    assert TABLES["supply"].stored == ("annual_value", "start", "end")
    assert TABLES["guarantees"].stored == ("guarantor_type", "loan_id", "amount", "start", "end")
    assert "uscc" not in TABLES["firms"].stored and "loan_id" not in TABLES["loans"].stored
    assert TABLES["financials"].stored == TABLES["financials"].column_names  # its id is the joined key
    assert TABLES["loan_status"].identity == ("loan_id", "month")
    assert TABLES["guarantees"].identity == ("loan_id", "start")
    assert isinstance(TABLES["receivables"].graph, RelMap)
    assert TABLES["receivables"].graph.start.column == "debtor_uscc"  # the debtor OWES the creditor
