"""The ``sapan`` command line: one entry point, one module per area of commands.

Each area module defines ``register(subparsers)`` and attaches a handler with
``parser.set_defaults(handler=...)``. A handler takes ``(args, cli)`` where ``cli`` is
the :class:`desktop.cli.common.Cli` context (output, store opening) and returns an exit
code. Expected problems are raised as :class:`~desktop.domain.errors.UserError` and
printed on stderr with exit code 2; a bug prints a short message and exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from desktop.cli.common import Cli, add_store_options
from desktop.domain.errors import UserError

# Areas of commands, each a module in this package with a ``register`` function. They are
# imported by name, so a build that leaves one out fails here loudly rather than offering
# fewer commands (the frozen build collects every module of this package).
AREAS: tuple[str, ...] = (
    "data",
    "eligibility",
    "printing",
    "sync",
    "server",
    "coordinate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sapan",
        description="Sapan: social security case files for migrant workers. "
        "With no command, opens the desktop app.",
    )
    add_store_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in AREAS:
        importlib.import_module(f"desktop.cli.{area}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cli = Cli(args)
    handler = getattr(args, "handler", None)
    try:
        if handler is None:
            return _open_app(args)
        result: int = handler(args, cli)
        return result
    except UserError as exc:
        cli.error(exc)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped (``sapan case list --json | head``): no traceback, and none at
        # exit when Python flushes what is left for the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # as a shell reports a command ended by SIGPIPE


def load_app() -> ModuleType:
    """Import the desktop app module, the data layer first.

    Order matters for start-up time: once PySide6 is imported, its import hook reads the
    source of every module imported after it (looking for ``from __feature__``), so the
    large pure-Python packages (SQLAlchemy, the models and services) are imported before
    Qt. The CLI itself never loads Qt.
    """
    importlib.import_module("desktop.services.ui_queries")
    return importlib.import_module("desktop.ui.app")


def _open_app(args: argparse.Namespace) -> int:
    """Start the desktop app."""
    os.environ.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false")
    code: int = load_app().run(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
