"""``chainrisk keys``: issue, list and revoke the HTTP API's keys (stored hashed, outside the graph)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from chainrisk.settings import get_settings

__all__ = ["register"]

keys_app = typer.Typer(help="API keys of the HTTP API (chainrisk serve).", no_args_is_help=True)


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Option("--role", help="officer, analyst or operator.")],
    name: Annotated[str | None, typer.Option("--name", help="Who or what holds it (default: role-id).")]
    = None,
    expires_days: Annotated[float | None, typer.Option("--expires-days", min=0.0, help="Expire after "
                                                       "this many days (default: never).")] = None,
) -> None:
    """Issue a key and print it alone on stdout: it is shown this once and stored only as a hash.

    Example: chainrisk keys create --role officer --name "credit desk" --expires-days 90
    """
    from chainrisk.app.auth.keys import ROLES, create_key

    if role not in ROLES:
        raise typer.BadParameter(f"expected one of {', '.join(ROLES)}, got {role!r}", param_hint="--role")
    if expires_days is not None and expires_days <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--expires-days")
    issued = create_key(get_settings().auth_db, role, name=name, expires_days=expires_days)
    info = issued.info
    Console(stderr=True).print(f"key {info.id} ({info.name}, {info.role}"
                               f"{', expires ' + info.expires if info.expires else ''}): store it now, "
                               "it is not shown again", highlight=False, markup=False)
    typer.echo(issued.key)


@keys_app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """List the keys: id, name, role, dates and state (never a secret or a hash).

    Example: chainrisk keys list --json
    """
    import pandas as pd

    from chainrisk.app.auth.keys import list_keys
    from chainrisk.app.render import emit_json, frame_table

    rows = [k.to_dict() for k in list_keys(get_settings().auth_db)]
    if as_json:
        emit_json({"keys": rows})
        return
    cols = ["id", "name", "role", "state", "created", "expires", "revoked", "last_used"]
    Console(soft_wrap=True).print(frame_table(pd.DataFrame(rows, columns=cols), "API keys"))


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (chainrisk keys list).")]) -> None:
    """Revoke a key: every later request with it is refused (401).

    Example: chainrisk keys revoke 3f9a0c1d
    """
    from chainrisk.app.auth.keys import revoke_key

    info = revoke_key(get_settings().auth_db, key_id)
    Console(stderr=True).print(f"key {info.id} ({info.name}) revoked {info.revoked}", highlight=False,
                               markup=False)


def register(app: typer.Typer) -> None:
    """Mount ``keys create|list|revoke`` on ``app``."""
    app.add_typer(keys_app, name="keys")
