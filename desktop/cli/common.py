"""Shared CLI plumbing: global options, output as text or JSON, error printing."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from desktop.domain.errors import UserError


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """Global options, given before the command: where the store is and how to unlock it."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the local store (default: $SAPAN_DATA_DIR or the user data folder)",
    )
    parser.add_argument(
        "--passphrase-file",
        metavar="FILE",
        help="read the store passphrase from FILE (scripts; otherwise $SAPAN_PASSPHRASE, "
        "the OS keyring or a prompt)",
    )
    parser.add_argument("--lang", default=None, help="language of messages: en th my km lo")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


class Cli:
    """What a command handler needs besides its arguments: output and error reporting."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.lang: str = getattr(args, "lang", None) or "en"

    @property
    def as_json(self) -> bool:
        return bool(getattr(self.args, "json", False))

    def emit(self, data: Any, text: str | None = None) -> None:
        """Print ``data`` as JSON when --json was given, else ``text`` (or a plain dump)."""
        if self.as_json:
            json.dump(data, self.out, ensure_ascii=False, indent=2, default=str)
            self.out.write("\n")
        else:
            self.out.write((text if text is not None else str(data)) + "\n")

    def info(self, message: str) -> None:
        self.err.write(message + "\n")

    def error(self, exc: UserError) -> None:
        self.err.write(f"sapan: {exc.translated(self.lang)}\n")
        for found in exc.issues:
            from desktop.domain.i18n import text

            where = f" [{found.field}]" if found.field else ""
            self.err.write(f"  - {text(found.code, self.lang, **dict(found.params))}{where}\n")
