"""Portfolio views of the bank's book: ``chainrisk connected | concentration | systemic | warning |
prospects``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from chainrisk.settings import get_settings

__all__ = ["register"]

_AsOf = Annotated[str | None, typer.Option("--as-of", help="Read the graph at this date (YYYY-MM-DD; "
                                           "default: the latest ingested).")]
_Json = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
_Csv = Annotated[bool, typer.Option("--csv", help="Print CSV.")]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _frame_out(frame: pd.DataFrame, *, as_json: bool, as_csv: bool, title: str, columns: list[str]) -> None:
    """A ranked frame as one JSON document (``frame_document``, as ``GET /portfolio/...``), CSV, or a
    table."""
    if as_json:
        from chainrisk.app.render import emit_json
        from queries.catalogue import frame_document

        emit_json(frame_document(frame))
        return
    if as_csv:
        import sys

        sys.stdout.write(frame.to_csv(index=False))
        return
    from chainrisk.app.render import frame_table

    out = Console(soft_wrap=True)
    attrs = ", ".join(f"{k} {v}" for k, v in frame.attrs.items())
    out.print(f"{title}: {len(frame)} ({attrs})", highlight=False, markup=False)
    out.print(frame_table(frame, columns=[*columns, "stale"]))


def register(app: typer.Typer) -> None:
    """Mount the portfolio commands on ``app``."""

    @app.command("connected")
    def connected_cmd(
        tier1: Annotated[float, typer.Option("--tier1", help="The bank's tier-1 capital (net), yuan.")],
        net_capital: Annotated[float | None, typer.Option(
            "--net-capital", help="The bank's net capital (资本净额), yuan: checks the 10% loan limit.",
        )] = None,
        control_share: Annotated[float, typer.Option(help="Least share held that ties an owner to a firm.")]
            = 0.5,
        undrawn_factor: Annotated[float, typer.Option(help="Part of undrawn limits counted (CCF).")] = 1.0,
        as_of: _AsOf = None,
        as_json: _Json = False,
    ) -> None:
        """Connected clients (集团客户 / 关联客户: control and guarantee groups) and the bank's exposure to
        each against the 2018 large-exposure limits (15% single client, 20% connected group of tier-1).

        Example: chainrisk connected --tier1 5e9 --net-capital 6e9 --json
        """
        from graph.runner import GraphRunner
        from queries.connected import connected_clients

        with GraphRunner.from_settings(get_settings()) as runner:
            got = connected_clients(runner, tier1_capital=tier1, net_capital=net_capital, as_of=_day(as_of),
                                    control_share=control_share, undrawn_factor=undrawn_factor)
        if as_json:
            from chainrisk.app.render import emit_json

            emit_json(got.to_dict())
            return
        from chainrisk.app.render import frame_table

        out = Console(soft_wrap=True)
        out.print(f"as of {got.as_of}; tier-1 capital {got.tier1_capital:,.0f}; limits {got.limits} "
                  f"({got.source})", highlight=False, markup=False)
        groups = got.groups.assign(members=got.groups["members"].map(len))
        out.print(frame_table(groups, "connected-client groups", columns=[
            "id", "members", "persons", "exposure", "share_of_tier1", "large", "over_limit"]))
        out.print(frame_table(got.clients, "clients", columns=[
            "uscc", "name", "exposure", "share_of_tier1", "large", "over_limit", "group", "stale"]))

    @app.command("concentration")
    def concentration_cmd(
        by: Annotated[str, typer.Option(help="Dimensions (comma-separated): region, industry, sector, "
                                        "lender, lifecycle, position, firm.")] =
            "region,industry,sector,lender,lifecycle,position,firm",
        measure: Annotated[str, typer.Option(help="exposure or outstanding.")] = "exposure",
        top_n: Annotated[int, typer.Option(min=1, help="Top-N share to report.")] = 5,
        as_of: _AsOf = None,
        as_json: _Json = False,
    ) -> None:
        """Concentration of the bank's book by dimension: HHI, effective number, top-1 and top-N shares.

        Example: chainrisk concentration --by region,industry,position --json
        """
        from graph.runner import GraphRunner
        from queries.concentration import concentration

        dims = [d.strip() for d in by.split(",") if d.strip()]
        with GraphRunner.from_settings(get_settings()) as runner:
            got = concentration(runner, as_of=_day(as_of), by=dims, measure=measure, top_n=top_n)
        if as_json:
            from chainrisk.app.render import emit_json

            emit_json(got.to_dict())
            return
        from chainrisk.app.render import frame_table

        out = Console(soft_wrap=True)
        out.print(f"as of {got.as_of}: {measure} {got.total:,.0f}", highlight=False, markup=False)
        out.print(frame_table(got.summary, "concentration"))
        for dim, frame in got.dimensions.items():
            out.print(frame_table(frame.head(10), f"{dim} (largest 10 of {len(frame)})",
                                  columns=["category", "uscc", "name", "exposure", "outstanding", "firms",
                                           "share", "stale"]))

    @app.command("systemic")
    def systemic_cmd(
        top: Annotated[int, typer.Option(min=1, help="Firms to list.")] = 20,
        method: Annotated[str, typer.Option(help="auto (stress results, else ESRI), stress or esri.")] = (
            "auto"),
        as_of: _AsOf = None,
        as_json: _Json = False,
        as_csv: _Csv = False,
    ) -> None:
        """The most systemic firms: the current stress run's impacts, else ESRI on the snapshot (it says
        which).

        Example: chainrisk systemic --top 20 --json
        """
        from graph.runner import GraphRunner
        from queries.systemic import top_systemic

        with GraphRunner.from_settings(get_settings()) as runner:
            got = top_systemic(runner, as_of=_day(as_of), top=top, method=method)
        _frame_out(got, as_json=as_json, as_csv=as_csv, title="systemic firms",
                   columns=["rank", "uscc", "name", "impact", "exposure"])

    @app.command("warning")
    def warning_cmd(
        window: Annotated[int, typer.Option(min=1, max=12, help="Months in each window compared.")] = 3,
        min_fall: Annotated[float, typer.Option(help="Least relative fall of a signal.")] = 0.1,
        min_growth: Annotated[float, typer.Option(help="Least relative growth of borrowing.")] = 0.1,
        as_of: _AsOf = None,
        as_json: _Json = False,
        as_csv: _Csv = False,
    ) -> None:
        """Early warning: firms whose electricity, utilisation, orders or invoices fall while their
        borrowing grows, ranked, with the figures.

        Example: chainrisk warning --window 3 --min-fall 0.1 --csv
        """
        from graph.runner import GraphRunner
        from queries.warning import early_warning

        with GraphRunner.from_settings(get_settings()) as runner:
            got = early_warning(runner, as_of=_day(as_of), window=window, min_fall=min_fall,
                                min_growth=min_growth)
        shown: Any = got
        if not as_json:
            shown = got.assign(falling=got["falling"].map(lambda x: ", ".join(x)))
            shown.attrs = got.attrs
        _frame_out(shown, as_json=as_json, as_csv=as_csv, title="early warning",
                   columns=["rank", "uscc", "name", "falling", "borrowing_growth", "bank_outstanding"])

    @app.command("prospects")
    def prospects_cmd(
        hops: Annotated[int, typer.Option(min=1, max=2, help="Supply links from a good borrower.")] = 1,
        top: Annotated[int, typer.Option(min=1, help="Prospects to list.")] = 100,
        as_of: _AsOf = None,
        as_json: _Json = False,
        as_csv: _Csv = False,
    ) -> None:
        """Prospects: platform firms the bank does not lend to yet, near its good borrowers, by low risk.

        Example: chainrisk prospects --hops 1 --top 50 --csv
        """
        from graph.runner import GraphRunner
        from queries.prospects import prospects

        with GraphRunner.from_settings(get_settings()) as runner:
            got = prospects(runner, as_of=_day(as_of), hops=hops, top=top)
        _frame_out(got, as_json=as_json, as_csv=as_csv, title="prospects",
                   columns=["rank", "uscc", "name", "risk_pd", "signal_change", "near_borrowers",
                            "trade_with_borrowers"])
