"""The Cypher generated from the table -> graph map (``ingest.cypher``)."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

import pytest

from ingest.cypher import ensure_query, table_cypher
from ingest.tables import TABLES, Column, NodeMap, RelMap, TableSpec


def test_every_table_maps_every_canonical_column() -> None:
    """A column neither stored nor used as an endpoint would be lost on the way to the graph."""
    for name, spec in TABLES.items():
        g = spec.graph
        ends = (g.start, g.end) if isinstance(g, RelMap) else (g.parent,)
        used = set(spec.stored) | {e.column for e in ends} | {e.type_column for e in ends if e.type_column}
        if isinstance(g, NodeMap):
            used.add(g.id_property)
        assert set(spec.column_names) <= used, name
        assert set(spec.stored) <= set(spec.column_names), name
        assert set(spec.identity) <= set(spec.column_names), name


def test_queries_take_values_only_as_parameters() -> None:
    for spec in TABLES.values():
        q = table_cypher(spec)
        for text in (q.load, q.create):
            assert text.lstrip().startswith("UNWIND $rows AS row")
            assert "RETURN count(*) AS written" in text
            # no string literals beyond the enum value the query switches on
            assert set(re.findall(r"'([^']*)'", text)) <= {"person", ""}
    closable = {n for n, s in TABLES.items() if isinstance(s.graph, RelMap) and s.graph.closable}
    assert closable == {"supply", "guarantees", "ownership"}
    assert closable == {n for n, s in TABLES.items() if table_cypher(s).close is not None}


def test_create_variants_keep_the_row_shape_and_the_written_column() -> None:
    for spec in TABLES.values():
        q = table_cypher(spec)
        assert q.create.lstrip().startswith("UNWIND $rows AS row")
        assert "RETURN count(*) AS written" in q.create
        assert "MERGE" not in q.create and set(re.findall(r"'([^']*)'", q.create)) <= {"person", ""}
        assert "count(" in q.count and "$" not in q.count


def test_uid_fill_exists_exactly_for_relationship_tables() -> None:
    for name, spec in TABLES.items():
        assert (table_cypher(spec).uid_fill is not None) == spec.is_relationship, name
    assert {n for n, s in TABLES.items() if s.is_relationship} == {"supply", "receivables", "guarantees",
                                                                   "ownership"}


def test_every_query_is_built_from_contract_identifiers_only() -> None:
    """Backquoted names in the text are the table's columns; labels and types are the map's."""
    for spec in TABLES.values():
        q = table_cypher(spec)
        for text in (q.load, q.create, q.count, q.read, q.close_read, q.close, q.uid_fill):
            if text is None:
                continue
            assert set(re.findall(r"`([^`]*)`", text)) <= set(spec.column_names) | {"external"}, spec.name
            # values come only as the run's parameters
            assert set(re.findall(r"\$(\w+)", text)) <= {"rows", "source", "run_id", "now", "ids", "limit",
                                                          "as_of"}, spec.name
        assert spec.target in q.count
    kinds: tuple[Literal["firm", "person", "platform"], ...] = ("firm", "person", "platform")
    for kind in kinds:
        assert ensure_query(kind).startswith("UNWIND $ids AS id MERGE")


def test_read_query_returns_the_table_columns_in_order() -> None:
    for spec in TABLES.values():
        returned = re.findall(r" AS `([^`]*)`", table_cypher(spec).read)
        assert tuple(returned) == spec.column_names, spec.name


def test_a_column_that_is_no_identifier_or_a_row_field_is_refused() -> None:
    supply = TABLES["supply"]
    for bad in ("incoterm`) DETACH DELETE n //", "Upper", "k", "u", "h"):
        with pytest.raises(ValueError, match="cannot be a graph property name"):
            dataclasses.replace(supply, columns=(*supply.columns, Column(bad, "str")))


def test_a_graph_map_naming_an_unknown_column_is_refused() -> None:
    supply = TABLES["supply"]
    assert isinstance(supply.graph, RelMap)
    wrong = dataclasses.replace(supply.graph, key=("begin",))
    with pytest.raises(ValueError, match="unknown column"):
        TableSpec(name="supply", columns=supply.columns, key=supply.key, graph=wrong)
    bad_label = dataclasses.replace(supply.graph, type="SUPPLIES]->() DELETE r //")
    with pytest.raises(ValueError, match="cannot be a label"):
        TableSpec(name="supply", columns=supply.columns, key=supply.key, graph=bad_label)


def test_a_new_column_reaches_every_query_of_its_table() -> None:
    """The unit half of "adding a property is one edit" (the live half loads it)."""
    supply = TABLES["supply"]
    wider = dataclasses.replace(supply, columns=(*supply.columns, Column("incoterm", "str")))
    assert wider.stored == (*supply.stored, "incoterm")
    q, before = table_cypher(wider), table_cypher(supply)
    for text in (q.load, q.create, q.read):
        assert "`incoterm`" in text
    for text in (before.load, before.create, before.read):
        assert "incoterm" not in text
    assert q.count == before.count and q.close == before.close
