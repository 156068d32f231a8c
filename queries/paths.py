"""Paths between two firms: "how is my borrower exposed to X?", as of a date.

:func:`paths_between` answers, over links active on ``as_of`` and at most ``hops`` (1 to 5) long:

- ``supply.downstream``: the shortest supply paths ``source -> ... -> target`` (the target buys,
  directly or down the chain, from the source);
- ``supply.upstream``: the shortest paths ``target -> ... -> source`` (the target supplies the source);
- ``guarantee``: the shortest guarantee paths between them, each guarantee walked either way and
  persons included (a person guaranteeing both firms makes a path of two links).

Each is every path of the shortest length (``ALL SHORTEST``, at most ``max_paths``, with
``truncated`` when cut), one per sequence of parties; parallel links between the same two parties
in the same direction (two supply contracts, guarantees of two loans) are summed into one link,
``links`` counting them; a step walked both ways (a mutual guarantee) lists both directions under
its ``step`` number. A link carries its direction (``from`` supplies / guarantees ``to``) and its
annual value or guaranteed amount (and the loans guaranteed). The answer also holds, for every firm on a path,
the bank's exposure (the catalogue's ``firm_exposure``) and its details with the dates of its
latest statement, signal and loan status and their stale flags (``queries.details``).

The search is the server's breadth-first shortest-path search over a quantified path pattern
whose activity rule prunes it as it goes (catalogue ``supply_paths``, ``guarantee_paths``).

Example::

    answer = paths_between(runner, "91350100M000100Y43", "91350100M000200Y01", hops=4)
    answer["supply"]["upstream"]["paths"][0]["links"]   # [{"from", "to", "value", ...}]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from chainrisk.errors import InvalidQueryParameter, UnknownFirm
from graph.protocol import QueryRunner
from ingest.uscc import validate
from queries.catalogue import CATALOGUE, jsonable, resolve_as_of, run_for_firms
from queries.chaincache import details_of
from queries.details import stale_before

__all__ = ["MAX_PATH_HOPS", "RELATIONS", "paths_between"]

MAX_PATH_HOPS = 5
RELATIONS = ("supply", "guarantee")


def _read(runner: QueryRunner, name: str, params: dict[str, Any], max_paths: int) -> dict[str, Any]:
    q = CATALOGUE[name]
    rows = runner.read(q.text, params, timeout=q.timeout_s)
    value_key = "value" if name == "supply_paths" else "amount"
    paths: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(n["id"] for n in row["nodes"])
        path = paths.setdefault(key, {"length": int(row["length"]), "nodes": row["nodes"], "steps": {}})
        for i, link in enumerate(row["links"]):
            # per step and direction: a mutual guarantee shows both of its links at the one step
            parts = path["steps"].setdefault((i, link["from"], link["to"]), {})
            parts[link["uid"]] = link
    out = []
    for key in sorted(paths):
        path = paths[key]
        links = []
        for (i, a, b), by_uid in sorted(path["steps"].items()):
            merged = list(by_uid.values())
            step: dict[str, Any] = {"step": i + 1, "from": a, "to": b,
                                    value_key: float(sum(p[value_key] or 0.0 for p in merged)),
                                    "links": len(merged), "start": min(p["start"] for p in merged)}
            if value_key == "amount":
                step["loan_ids"] = sorted({p["loan_id"] for p in merged if p["loan_id"]})
            links.append(step)
        out.append({"length": path["length"], "nodes": path["nodes"], "links": links})
    return {"length": out[0]["length"] if out else None, "paths": out, "truncated": len(rows) >= max_paths}


def paths_between(
    runner: QueryRunner,
    source: str,
    target: str,
    *,
    hops: int = 4,
    as_of: date | str | None = None,
    relations: Sequence[str] = RELATIONS,
    max_paths: int = 100,
    lenders: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The shortest supply and guarantee paths between ``source`` and ``target`` (module doc).

    Returns a JSON-ready dict: ``source``, ``target``, ``as_of``, ``hops``, ``relations``,
    ``stale_before``, ``supply`` (``downstream``, ``upstream``) and ``guarantee``, each
    ``{"length", "paths", "truncated"}`` (``length`` ``None``: no path within ``hops``), and
    ``firms`` (USCC -> name, exposure, dates and stale flags) for every firm on a path.

    Raises:
        InvalidUSCC: a malformed USCC (the message names the expected check character).
        InvalidQueryParameter: ``hops`` outside 1..5, an unknown relation, the same firm twice.
        UnknownFirm: no firm with that USCC in the graph.
    """
    a, b = validate(source), validate(target)
    if not isinstance(hops, int) or isinstance(hops, bool) or not 1 <= hops <= MAX_PATH_HOPS:
        raise InvalidQueryParameter(f"hops must be a whole number from 1 to {MAX_PATH_HOPS}, got {hops!r}")
    unknown = sorted(set(relations) - set(RELATIONS))
    if unknown or not relations:
        raise InvalidQueryParameter(f"relations must be among {list(RELATIONS)}, got {list(relations)}")
    if not 1 <= max_paths <= 1000:
        raise InvalidQueryParameter(f"max_paths must lie in [1, 1000], got {max_paths}")
    if a == b:
        raise InvalidQueryParameter("source and target are the same firm")
    found = runner.read("UNWIND $usccs AS u MATCH (f:Firm {uscc: u}) RETURN f.uscc AS uscc",
                        {"usccs": [a, b]})
    missing = [u for u in (a, b) if u not in {r["uscc"] for r in found}]
    if missing:
        raise UnknownFirm(f"no firm with USCC {missing[0]} in the graph")
    day = resolve_as_of(runner, as_of)
    params = {"hops": hops, "as_of": day, "max_paths": max_paths}
    answer: dict[str, Any] = {"source": a, "target": b, "as_of": day.isoformat(), "hops": hops,
                              "relations": list(relations), "stale_before": stale_before(day).isoformat()}
    if "supply" in relations:
        answer["supply"] = {
            "downstream": _read(runner, "supply_paths", {**params, "source": a, "target": b}, max_paths),
            "upstream": _read(runner, "supply_paths", {**params, "source": b, "target": a}, max_paths),
        }
    if "guarantee" in relations:
        answer["guarantee"] = _read(runner, "guarantee_paths", {**params, "source": a, "target": b},
                                    max_paths)
    sections = [*answer.get("supply", {}).values()] + ([answer["guarantee"]] if "guarantee" in answer else [])
    firms = sorted({a, b} | {n["id"] for s in sections for p in s["paths"] for n in p["nodes"]
                             if n["party"] == "firm"})
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    exposure = run_for_firms(runner, "firm_exposure", firms, {"as_of": day, "lenders": bank})
    money = {r["uscc"]: {k: r[k] for k in ("outstanding", "undrawn", "exposure", "guarantees_given")}
             for r in exposure.to_dict(orient="records")}
    details = details_of(runner, firms, day)
    answer["firms"] = {u: jsonable({**details.get(u, {}), **money.get(u, {})}) for u in firms}
    return answer
