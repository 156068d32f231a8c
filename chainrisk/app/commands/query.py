"""``chainrisk query`` (a named query of the catalogue) and ``chainrisk cypher`` (analysts' read-only
Cypher)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from chainrisk.errors import InvalidQueryParameter
from chainrisk.settings import get_settings

__all__ = ["parse_params", "register"]


def parse_params(pairs: list[str], *, json_values: bool) -> dict[str, Any]:
    """``["k=v", ...]`` as a dict; with ``json_values`` a value that parses as JSON is taken as such.

    >>> parse_params(["hops=3", "name=Beta"], json_values=True)
    {'hops': 3, 'name': 'Beta'}
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidQueryParameter(f"--param takes NAME=VALUE, got {pair!r}")
        parsed: Any = value
        if json_values:
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = value
        out[key.strip()] = parsed
    return out


_Params = Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE, repeatable.")]
_Json = Annotated[bool, typer.Option("--json", help="Print one JSON document {columns, rows, ...}.")]
_Csv = Annotated[bool, typer.Option("--csv", help="Print CSV.")]


def register(app: typer.Typer) -> None:
    """Mount the ``query`` and ``cypher`` commands on ``app``."""

    @app.command("query")
    def query_cmd(
        name: Annotated[str | None, typer.Argument(help="A query of the catalogue; none: list them.")] = None,
        param: _Params = None,
        as_json: _Json = False,
        as_csv: _Csv = False,
    ) -> None:
        """Run a named query of the catalogue with typed parameters (no NAME: list the catalogue).

        Example: chainrisk query classification_mismatch --param as_of=2024-06-30 --csv
        """
        from chainrisk.app.render import emit_json, frame_table
        from queries.catalogue import CATALOGUE

        if name is None:
            if as_json:
                emit_json([{"name": q.name, "doc": q.doc, "columns": list(q.columns),
                            "params": [{"name": p.name, "type": p.type, "required": p.required, "doc": p.doc}
                                       for p in q.params]} for q in CATALOGUE.values()])
                return
            import pandas as pd

            frame = pd.DataFrame([
                {"name": q.name, "doc": q.doc,
                 "parameters": ", ".join(f"{p.name}: {p.type}" for p in q.params)}
                for q in CATALOGUE.values()
            ])
            Console(soft_wrap=True).print(frame_table(frame, "named queries"))
            return
        from chainrisk.app.render import print_frame
        from graph.runner import GraphRunner
        from queries.catalogue import run_query

        with GraphRunner.from_settings(get_settings()) as runner:
            frame = run_query(runner, name, parse_params(param or [], json_values=False))
        extra = {"query": name, "as_of": frame.attrs.get("as_of"), "truncated": frame.attrs.get("truncated")}
        print_frame(frame, as_json=as_json, as_csv=as_csv, extra=extra)

    @app.command("cypher")
    def cypher_cmd(
        query: Annotated[str, typer.Argument(help="A read-only Cypher query; values as $parameters.")],
        param: _Params = None,
        max_rows: Annotated[int, typer.Option(min=1, max=1_000_000, help="Row cap.")] = 10_000,
        timeout: Annotated[float, typer.Option(min=0.1, help="Seconds before the server aborts it.")] = 30.0,
        as_json: _Json = False,
        as_csv: _Csv = False,
    ) -> None:
        """Run an analyst's read-only Cypher (checked in layers, logged with your user name).

        Parameter values are JSON when they parse as JSON (numbers, lists), else text.

        Example: chainrisk cypher "MATCH (f:Firm) WHERE f.region = $r RETURN f.uscc, f.name" -p r=350100 --csv
        """
        from chainrisk.app.render import print_frame
        from graph.runner import GraphRunner
        from queries.adhoc import run_cypher

        with GraphRunner.from_settings(get_settings()) as runner:
            frame = run_cypher(runner, query, parse_params(param or [], json_values=True),
                               max_rows=max_rows, timeout_s=timeout)
        if frame.attrs.get("truncated") and not as_json:
            Console(stderr=True).print(f"(stopped at {max_rows} rows)")
        print_frame(frame, as_json=as_json, as_csv=as_csv, extra={"truncated": frame.attrs.get("truncated")})
