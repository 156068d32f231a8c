"""``chainrisk exposure``: a firm's supply and guarantee chain and the bank's exposure along it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from chainrisk.settings import get_settings

__all__ = ["register"]

def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns an officer scans first; the stale dates named (all of it is in --json)."""
    rows = []
    for r in frame.to_dict(orient="records"):
        stale = [k for k in ("statement", "signal", "loan_status") if r.get(f"{k}_stale") is True]
        rows.append({
            "id": r.get("uscc") if isinstance(r.get("uscc"), str) else r.get("person_id"),
            "name": r.get("name"), "dist": r.get("distance"),
            "value": r.get("trade_value", r.get("amount")), "share": r.get("share"),
            "exposure": r.get("exposure"), "class": r.get("worst_class"), "tier": r.get("risk_tier"),
            "stale": ", ".join(stale),
        })
    return pd.DataFrame(rows, columns=["id", "name", "dist", "value", "share", "exposure", "class", "tier",
                                       "stale"])


def register(app: typer.Typer) -> None:
    """Mount the ``exposure`` command on ``app``."""

    @app.command("exposure")
    def exposure_cmd(
        uscc: Annotated[str, typer.Argument(help="The firm's unified social credit code.")],
        hops: Annotated[int, typer.Option(help="Steps along each chain (at most 5).")] = 3,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Read the graph at this date "
                                                  "(YYYY-MM-DD; default: the latest ingested).")] = None,
        direction: Annotated[str, typer.Option(help="Supply side: both, upstream or downstream.")] = "both",
        page: Annotated[int, typer.Option(min=1, help="Page of each list (tables only).")] = 1,
        page_size: Annotated[int, typer.Option(min=1, max=1000, help="Rows a page (tables only).")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print the whole chain (every page) as one "
                                              "JSON document.")] = False,
    ) -> None:
        """Show USCC's suppliers, buyers, guarantors and guaranteed firms, with the bank's exposure.

        Every firm appears once per list at its shortest distance, with trade value and share of the
        firm's inputs or sales, the bank's outstanding loans, undrawn limits and guarantees, its risk
        labels, and the dates of its latest statement, signal and loan status (stale: older than 6 months).

        Example: chainrisk exposure 91350100M000100Y43 --hops 3 --as-of 2024-06-30 --json
        """
        from graph.runner import GraphRunner
        from queries.exposure import MAX_PAGE_SIZE, SECTIONS, chain

        day = date.fromisoformat(as_of) if as_of else None
        with GraphRunner.from_settings(get_settings()) as runner:
            # one chain in a one-shot process: the reference path reads less than the process cache's
            # warm-up (whole networks and the bank's book), which pays off only across requests
            whole = chain(runner, uscc, hops=hops, direction=direction, as_of=day,  # type: ignore[arg-type]
                          cache=None)
            if as_json:
                from chainrisk.app.render import emit_json

                doc: dict[str, Any] = {}
                for p in whole.pages(runner, MAX_PAGE_SIZE):
                    d = p.to_dict()
                    if not doc:
                        doc = {k: v for k, v in d.items() if k not in ("page", "page_size")}
                    else:
                        for s in SECTIONS:
                            doc[s] += d[s]
                emit_json(doc)
                return
            shown = whole.page(runner, page, page_size)
        from chainrisk.app.render import frame_table

        out = Console(soft_wrap=True)
        d = shown.to_dict()
        me = d["firm_details"]
        out.print(f"{d['firm']} {d['name'] or ''}: as of {d['as_of']}, {hops} hops; exposure "
                  f"{me.get('exposure') or 0:,.0f} (outstanding {me.get('outstanding') or 0:,.0f}, undrawn "
                  f"{me.get('undrawn') or 0:,.0f}); data before {d['stale_before']} is stale",
                  highlight=False, markup=False)
        for s in SECTIONS:
            frame = getattr(shown, s)
            n = d["counts"][s]
            lo, hi = min((page - 1) * page_size + 1, n), min(page * page_size, n)
            title = f"{s}: {n} (page {page}, rows {lo}-{hi})"
            out.print(frame_table(_compact(frame), title))
        t = d["totals"]["chain"]
        out.print(f"whole chain: {t['firms']} firms, {t['persons']} persons, bank exposure "
                  f"{t['exposure']:,.0f}, guarantees given {t['guarantees_given']:,.0f}, special mention "
                  f"or worse {t['special_mention_or_worse']}",
                  highlight=False, markup=False)
