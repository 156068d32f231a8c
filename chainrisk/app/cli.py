"""The ``chainrisk`` command line: a thin typer layer over the library.

Domain errors become one clear line on stderr and a non-zero exit code here, at
the edge, and nowhere else.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from chainrisk import __version__
from chainrisk.errors import ChainriskError

__all__ = ["COMMAND_MODULES", "app", "main"]

app = typer.Typer(
    name="chainrisk",
    help="Supply-chain and guarantee-chain credit risk on a Neo4j knowledge graph.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: Command modules under ``chainrisk.app.commands``, each with ``register(app)``.
COMMAND_MODULES: tuple[str, ...] = (
    "db",
    "generate",
    "ingest",
    "stress",
    "evaluate",
    "train",
    "score",
    "explain",
    "monitor",
    "exposure",
    "circles",
    "paths",
    "portfolio",
    "query",
    "keys",
    "serve",
    "demo",
    "users",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"chainrisk.app.commands.{_name}").register(app)


@app.command("version")
def version() -> None:
    """Print chainrisk's version.

    Example: chainrisk version
    """
    typer.echo(__version__)


#: Exit codes at the CLI edge.
EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; domain errors become one line on stderr and exit code 1."""
    err = Console(stderr=True)
    try:
        app(args=argv, standalone_mode=False)
    except ChainriskError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    except typer.Abort:
        err.print("aborted")
        return EXIT_ERROR
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except Exception as exc:  # click's usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is not None and hasattr(exc, "show"):
            exc.show()
            return int(code)
        err.print(f"[bold red]error:[/] unexpected {type(exc).__name__}: {exc}", highlight=False)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
