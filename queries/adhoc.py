"""Analysts' ad-hoc Cypher, read-only in layers.

An analyst's query runs only when every layer lets it through; each layer stops something
the others might miss, and each is tested with an attack (``tests/queries/test_adhoc.py``):

1. **text**: not empty, at most :data:`MAX_QUERY_CHARS`, not itself ``EXPLAIN``/``PROFILE`` (a
   ``PROFILE`` runs the query) and no ``LOAD CSV`` (file reads and server-side requests);
2. **plan type**: ``EXPLAIN`` (nothing runs) must give query type ``r``; ``rw``, ``w`` and ``s``
   (schema, administration) are refused;
3. **operators**: no ``LoadCSV``, no ``Show*``/``Terminate*`` commands (``TERMINATE
   TRANSACTION`` and ``SHOW TRANSACTIONS`` plan as reads, yet end or reveal other people's
   work), no ``CALL ... IN TRANSACTIONS``;
4. **procedures**: every ``ProcedureCall`` in the plan is in :data:`ALLOWED_PROCEDURES`
   (``gds.graph.project`` and ``gds.graph.drop`` plan as reads, yet exhaust memory or drop
   another job's projection);
5. **functions**: every namespaced function call in the plan is allowed
   (:data:`ALLOWED_FUNCTIONS`: temporal, spatial and vector functions, ``gds.util.asNode(s)``,
   ``gds.similarity.*``); the aggregating ``gds.graph.project`` function is not;
6. **run**: a read transaction (the server refuses any write in it) with a timeout, a row cap
   (rows past it are never read) and the server's per-transaction memory cap
   (``db.memory.transaction.max``, ``CHAINRISK_NEO4J_TX_MAX``);
7. **log**: every query, run or refused, is appended to the audit log (``settings.query_log``,
   JSON lines, mode 0600, outside the graph) with who ran it (the OS user unless the caller
   names one) and travels with that name in the transaction's metadata.

Community Edition has no roles, so read-only holds for chainrisk's interfaces (this module,
the CLI and the API), not for someone holding the database password: on an Enterprise
server or a read-only replica, give analysts a user with the ``reader`` role and deny
``LOAD CSV`` and procedures there too (``docs/queries.md``).

>>> check_text("MATCH (f:Firm) RETURN f.uscc LIMIT 5")
>>> check_text("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l")
Traceback (most recent call last):
...
chainrisk.errors.UnsafeQuery: LOAD CSV is not allowed in analysts' queries
"""

from __future__ import annotations

import getpass
import json
import os
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from chainrisk.errors import ChainriskError, UnsafeQuery
from graph.protocol import AnalystRunner, QueryPlan

__all__ = [
    "ALLOWED_FUNCTIONS",
    "ALLOWED_PROCEDURES",
    "MAX_QUERY_CHARS",
    "check_plan",
    "check_text",
    "run_cypher",
]

MAX_QUERY_CHARS = 20_000

#: Procedures an analyst's query may call: schema introspection and versions.
ALLOWED_PROCEDURES: frozenset[str] = frozenset({
    "db.labels",
    "db.relationshipTypes",
    "db.propertyKeys",
    "db.schema.visualization",
    "db.schema.nodeTypeProperties",
    "db.schema.relTypeProperties",
    "dbms.components",
    "gds.version",
})

#: Namespaced functions an analyst's query may call: exact names, or prefixes ending in ``.``.
ALLOWED_FUNCTIONS: frozenset[str] = frozenset({
    "date.", "datetime.", "localdatetime.", "localtime.", "time.", "duration.", "point.", "vector.",
    "gds.util.asNode", "gds.util.asNodes", "gds.similarity.", "gds.version",
})

_REFUSED_OPERATORS = ("LoadCSV", "Show", "Terminate", "TransactionApply", "TransactionForeach",
                      "AdministrationCommand", "SystemProcedureCall")
_LOAD_CSV = re.compile(r"\bLOAD\s+CSV\b", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(EXPLAIN|PROFILE)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
#: ``a.b(`` or ``a.b.c(``: a namespaced call in a plan's details.
_CALL = re.compile(r"(?<![\w.$`])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*\(")


def check_text(query: str) -> None:
    """Layer 1: the text alone (see the module docstring); raises :class:`UnsafeQuery`."""
    if not query or not query.strip():
        raise UnsafeQuery("the query is empty", layer="text")
    if len(query) > MAX_QUERY_CHARS:
        raise UnsafeQuery(f"the query is longer than {MAX_QUERY_CHARS} characters", layer="text")
    bare = _COMMENTS.sub(" ", query)
    if _PREFIX.match(bare):
        raise UnsafeQuery("send the query without EXPLAIN or PROFILE", layer="text")
    if _LOAD_CSV.search(bare) or _LOAD_CSV.search(query):
        raise UnsafeQuery("LOAD CSV is not allowed in analysts' queries", layer="text")


def _function_allowed(name: str) -> bool:
    return any(name == a or (a.endswith(".") and name.startswith(a)) for a in ALLOWED_FUNCTIONS)


def check_plan(plan: QueryPlan) -> None:
    """Layers 2-5: the plan's type, operators, procedures and functions; raises :class:`UnsafeQuery`."""
    if plan.query_type != "r":
        raise UnsafeQuery(
            f"only read queries may run (the server plans this one as type {plan.query_type!r}, not 'r')",
            layer="plan",
        )
    for op, details in plan.operators:
        if op.startswith(_REFUSED_OPERATORS):
            raise UnsafeQuery(f"the plan's {op} operator is not allowed in analysts' queries",
                              layer="operator")
        if op == "ProcedureCall":
            name = details.split("(", 1)[0].strip()
            if name not in ALLOWED_PROCEDURES:
                raise UnsafeQuery(
                    f"procedure {name} is not allowed; allowed: {', '.join(sorted(ALLOWED_PROCEDURES))}",
                    layer="procedure",
                )
            continue
        for name in _CALL.findall(details):
            if not _function_allowed(name):
                raise UnsafeQuery(f"function {name} is not allowed in analysts' queries", layer="function")


def _log(path: Path, entry: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # created owner-only: the log holds other analysts' queries and parameters
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(dict(entry), default=str, ensure_ascii=False) + "\n")


def run_cypher(
    runner: AnalystRunner,
    query: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_rows: int = 10_000,
    timeout_s: float = 30.0,
    user: str | None = None,
    log_path: str | Path | None = None,
) -> pd.DataFrame:
    """Run an analyst's read-only query through every layer; a frame of its rows.

    ``frame.attrs`` holds ``truncated`` (the row cap cut the answer) and ``user``. ``user``
    defaults to the OS user; ``log_path`` to ``settings.query_log``.

    Raises:
        UnsafeQuery: a layer refused the query (``.layer`` says which); it did not run.
        QueryFailed: the server rejected it (syntax, timeout, memory cap, a write in a read
            transaction).
    """
    who = user or getpass.getuser()
    path = Path(log_path) if log_path is not None else Path(runner.settings.query_log)
    entry: dict[str, Any] = {"time": datetime.now(UTC).isoformat(), "user": who, "query": query,
                             "parameters": sorted((params or {}).keys()), "database": runner.database}
    started = time.monotonic()
    try:
        if max_rows < 1 or timeout_s <= 0:
            raise UnsafeQuery("max_rows must be at least 1 and timeout_s positive", layer="limits")
        check_text(query)
        check_plan(runner.explain_text(query, params))
        result = runner.read_text(query, params, timeout=timeout_s, max_rows=max_rows,
                                  metadata={"user": who})
    except UnsafeQuery as exc:
        _log(path, {**entry, "outcome": "refused", "layer": exc.layer, "error": str(exc)})
        raise
    except ChainriskError as exc:
        _log(path, {**entry, "outcome": "failed", "error": str(exc)})
        raise
    _log(path, {**entry, "outcome": "ran", "rows": len(result.rows), "truncated": result.truncated,
                "seconds": round(time.monotonic() - started, 3)})
    frame = pd.DataFrame(result.rows, columns=result.columns)
    frame.attrs.update(truncated=result.truncated, user=who)
    return frame
