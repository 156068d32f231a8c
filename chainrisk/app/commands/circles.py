"""``chainrisk circles``: guarantee groups and circles (担保圈) of the whole graph."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from chainrisk.settings import get_settings

__all__ = ["register"]


def _thresholds(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise typer.BadParameter(f"expected comma-separated numbers, got {text!r}") from exc


def register(app: typer.Typer) -> None:
    """Mount the ``circles`` command on ``app``."""

    @app.command("circles")
    def circles_cmd(
        as_of: Annotated[str | None, typer.Option("--as-of", help="Read the graph at this date "
                                                  "(YYYY-MM-DD; default: the latest ingested).")] = None,
        grades: Annotated[str, typer.Option(help="Loan balances (yuan, increasing) at which a group's "
                                            "grade steps up.")] = "50e6,200e6,1e9",
        review_size: Annotated[int, typer.Option(min=2, help="Split larger groups for review by "
                                                 "minimum cuts.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document "
                                              "{groups, circles}.")] = False,
    ) -> None:
        """List guarantee groups (weakly connected) and circles (strongly connected), typed and graded.

        Types: mutual 互保, joint 联保, cycle 循环担保, chain 担保链, star, cross 交叉担保, complex
        (definitions in docs/queries.md).

        Example: chainrisk circles --as-of 2024-06-30 --json
        """
        from graph.runner import GraphRunner
        from queries.circles import guarantee_circles
        from queries.details import stale_before

        day = date.fromisoformat(as_of) if as_of else None
        with GraphRunner.from_settings(get_settings()) as runner:
            net = guarantee_circles(runner, as_of=day, grade_thresholds=_thresholds(grades),
                                    review_size=review_size)
        if as_json:
            from chainrisk.app.render import emit_json

            emit_json(net.to_dict())
            return
        from chainrisk.app.render import frame_table

        out = Console(soft_wrap=True)
        stale = {u for u, d in net.firms.items() if d.get("stale")}
        groups = net.groups.assign(members=net.groups["members"].map(len),
                                   stale=net.groups["members"].map(lambda ms: sum(m in stale for m in ms)))
        circles = net.circles.assign(members=net.circles["members"].map(len))
        before = stale_before(net.as_of).isoformat() if net.as_of else "-"
        out.print(f"as of {net.as_of}: {len(groups)} groups, {len(circles)} circles; {len(stale)} member "
                  f"firms with data from before {before} (stale: per group below, each firm's "
                  f"dates in --json)", highlight=False)
        out.print(frame_table(groups, "groups", columns=[
            "id", "type", "members", "persons", "links", "circles", "guaranteed_amount",
            "guarantee_to_equity", "loan_balance", "share_special_mention_or_worse", "bank_exposure",
            "grade", "stale"]))
        out.print(frame_table(circles, "circles", columns=[
            "id", "group", "type", "members", "cycles_total", "cycles_exact", "guaranteed_amount",
            "loan_balance", "bank_exposure", "grade"]))
