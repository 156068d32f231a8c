"""``chainrisk db``: build, start, stop and inspect the local Neo4j server; apply the schema."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from chainrisk.settings import get_settings

__all__ = ["register"]

db_app = typer.Typer(help="The local Neo4j server and the graph schema.", no_args_is_help=True)
console = Console(soft_wrap=True)


@db_app.command("build")
def build() -> None:
    """Build the local Neo4j 5.26 server and the open-GDS plugin from Maven Central.

    Example: chainrisk db build
    """
    from graph.server import build_server

    t0 = time.monotonic()
    build_server(get_settings(), quiet=False)
    console.print(f"built in {time.monotonic() - t0:.1f} s")


@db_app.command("start")
def start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt to answer.")] = 120.0,
) -> None:
    """Start the local server (building it first if needed) and wait until Bolt answers.

    Example: chainrisk db start
    """
    from graph.server import start_server

    t0 = time.monotonic()
    h = start_server(get_settings(), timeout_s=timeout)
    state = "already running" if h.already_running else f"started in {time.monotonic() - t0:.1f} s"
    console.print(f"Neo4j {state}: pid {h.pid}, bolt {h.bolt}, http {h.http}, log {h.log}", highlight=False)


@db_app.command("stop")
def stop() -> None:
    """Stop the local server cleanly.

    Example: chainrisk db stop
    """
    from graph.server import stop_server

    console.print("stopped" if stop_server(get_settings()) else "no local server was running")


@db_app.command("status")
def status() -> None:
    """Show whether the server answers, and its Neo4j and GDS versions.

    Example: chainrisk db status
    """
    from graph.gds import gds_version
    from graph.runner import GraphRunner
    from graph.server import server_pid

    s = get_settings()
    pid = server_pid(s)
    with GraphRunner.from_settings(s) as runner:
        info = runner.server_info()
        gds = gds_version(runner)
    local = f"local pid {pid}" if pid else "not the local server"
    console.print(
        f"{s.neo4j_uri} ({local}): {info.get('name')} {info.get('version')} {info.get('edition')}, "
        f"GDS {gds}, database {s.neo4j_database!r}",
        highlight=False,
    )


@db_app.command("init")
def init(
    force: Annotated[bool, typer.Option(help="Write even into a database chainrisk did not create.")] = False,
) -> None:
    """Apply chainrisk's constraints and indexes (idempotent).

    Example: chainrisk db init
    """
    from graph.runner import GraphRunner
    from graph.schema import ensure_schema

    with GraphRunner.from_settings(get_settings()) as runner:
        created = ensure_schema(runner, force=force)
    console.print(f"schema applied: {created} constraints/indexes created")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
