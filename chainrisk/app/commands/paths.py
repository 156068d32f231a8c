"""``chainrisk paths``: the shortest supply and guarantee paths between two firms."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from chainrisk.settings import get_settings

__all__ = ["register"]


def _path_rows(section: dict[str, Any], firms: dict[str, Any], value: str) -> pd.DataFrame:
    rows = []
    for i, path in enumerate(section["paths"], start=1):
        for link in path["links"]:
            name = firms.get(link["to"], {}).get("name")
            rows.append({"path": i, "step": link["step"], "from": link["from"], "to": link["to"],
                         "to name": name, value: link[value], "links": link["links"]})
    return pd.DataFrame(rows, columns=["path", "step", "from", "to", "to name", value, "links"])


def register(app: typer.Typer) -> None:
    """Mount the ``paths`` command on ``app``."""

    @app.command("paths")
    def paths_cmd(
        source: Annotated[str, typer.Argument(help="USCC of the first firm (your borrower).")],
        target: Annotated[str, typer.Argument(help="USCC of the second firm (X).")],
        hops: Annotated[int, typer.Option(help="Links on a path at most (1 to 5).")] = 4,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Read the graph at this date "
                                                  "(YYYY-MM-DD; default: the latest ingested).")] = None,
        relations: Annotated[str, typer.Option(help="supply, guarantee or both (comma-separated).")] =
            "supply,guarantee",
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """How is SOURCE exposed to TARGET? The shortest supply paths both ways and guarantee paths
        (persons included), with the value or amount of every link and each firm's dates.

        Example: chainrisk paths 91350100M000100Y43 91350100M000200Y01 --hops 4 --json
        """
        from graph.runner import GraphRunner
        from queries.paths import paths_between

        day = date.fromisoformat(as_of) if as_of else None
        wanted = tuple(r.strip() for r in relations.split(",") if r.strip())
        with GraphRunner.from_settings(get_settings()) as runner:
            answer = paths_between(runner, source, target, hops=hops, as_of=day, relations=wanted)
        if as_json:
            from chainrisk.app.render import emit_json

            emit_json(answer)
            return
        from chainrisk.app.render import frame_table

        out = Console(soft_wrap=True)
        firms = answer["firms"]
        out.print(f"{answer['source']} -> {answer['target']}: as of {answer['as_of']}, at most {hops} links; "
                  f"data before {answer['stale_before']} is stale", highlight=False, markup=False)
        sections = [(f"supply: {answer['source']} supplies ... {answer['target']}",
                     answer.get("supply", {}).get("downstream"), "value"),
                    (f"supply: {answer['target']} supplies ... {answer['source']}",
                     answer.get("supply", {}).get("upstream"), "value"),
                    ("guarantees (either way, persons included)", answer.get("guarantee"), "amount")]
        for title, section, value in sections:
            if section is None:
                continue
            n = len(section["paths"])
            head = f"{title}: {n} shortest path(s) of {section['length']} link(s)" if n else f"{title}: none"
            out.print(frame_table(_path_rows(section, firms, value), head))
        stale = [u for u, d in firms.items() if d.get("stale")]
        if stale:
            out.print(f"stale data: {', '.join(stale)}", highlight=False, markup=False)
