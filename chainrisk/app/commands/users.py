"""``chainrisk users add|list|remove``: the web page's users (scrypt hashes in the credential store)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from chainrisk.errors import ConfigError
from chainrisk.settings import get_settings

__all__ = ["register"]


def _read_password(stdin: bool) -> str:
    if stdin:
        # the first line only, without its newline: `printf '%s\n' "$PW" | chainrisk users add ...`
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    if first != typer.prompt("Repeat the password", hide_input=True):
        raise ConfigError("the two passwords differ")
    return str(first)


def register(app: typer.Typer) -> None:
    """Mount the ``users`` command group on ``app``."""
    users = typer.Typer(help="Users of the web page (credit officers).", no_args_is_help=True)
    app.add_typer(users, name="users")

    @users.command("add")
    def add_cmd(
        name: Annotated[str, typer.Argument(help="The user's login name.")],
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin", help="Read the password from the first line of stdin instead of a prompt."
            ),
        ] = False,
    ) -> None:
        """Create a user of the web page; the password is stored as a scrypt hash only.

        Example: chainrisk users add alice
        """
        from chainrisk.app.web.users import add_user

        db = get_settings().auth_db
        add_user(db, name, _read_password(password_stdin))
        typer.echo(f"user {name} added", err=True)

    @users.command("list")
    def list_cmd(
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """List the web page's users (names and creation times, never hashes).

        Example: chainrisk users list --json
        """
        from chainrisk.app.web.users import list_users

        rows = list_users(get_settings().auth_db)
        if as_json:
            from chainrisk.app.render import emit_json

            emit_json({"users": rows})
            return
        for row in rows:
            typer.echo(f"{row['name']}\t{row['created']}")

    @users.command("remove")
    def remove_cmd(name: Annotated[str, typer.Argument(help="The user to delete.")]) -> None:
        """Delete a user and end their sessions.

        Example: chainrisk users remove alice
        """
        from chainrisk.app.web.users import remove_user

        remove_user(get_settings().auth_db, name)
        typer.echo(f"user {name} removed", err=True)
