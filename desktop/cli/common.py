"""Shared CLI plumbing: global options, output as text or JSON, error printing."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from desktop.domain.errors import UserError

if TYPE_CHECKING:
    from desktop.models.store import Store


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


def translator(lang: str) -> Callable[..., str]:
    """``translate(key, **params)`` in ``lang``: what services take to name things in the
    reader's language."""
    from desktop.domain.i18n import text

    def translate(key: str, **params: Any) -> str:
        return text(key, lang, **params)

    return translate


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

    @property
    def data_dir(self) -> Path:
        from desktop.models.store import default_data_dir

        given = getattr(self.args, "data_dir", None)
        return Path(given).expanduser() if given else default_data_dir()

    def given_passphrase(self) -> str | None:
        """The passphrase from --passphrase-file or $SAPAN_PASSPHRASE, if any."""
        path = getattr(self.args, "passphrase_file", None)
        if path:
            try:
                return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise UserError("error.attachment_unreadable", path=str(path)) from exc
        return os.environ.get("SAPAN_PASSPHRASE") or None

    def open_store(self, *, create: bool = True) -> Store:
        """Open the store in the data dir; on an empty data dir create a new encrypted one."""
        from desktop.models.store import StorePaths, create_store, open_store, store_exists

        root = self.data_dir
        passphrase = self.given_passphrase()
        if not store_exists(root):
            if not create:
                # what is left of a store the server had wiped says so, and the way on
                wiped = StorePaths(root).wiped.exists()
                missing = "error.store_wiped_folder" if wiped else "error.store_missing"
                raise UserError(missing, path=str(root))
            if passphrase is None:
                passphrase = self._prompt_new_passphrase()
            self.info(f"Creating a new encrypted store in {root}")
            return create_store(root, passphrase)
        return open_store(
            root,
            passphrase if passphrase is not None else self.ask_passphrase,
            upgrading=lambda: self.info(
                f"Upgrading the store in {root} for this version of Sapan (a copy is kept in"
                f" {root / 'backups'} first); a large store takes a few minutes."
            ),
        )

    def ask_passphrase(self) -> str:
        """The passphrase typed at a terminal; ``error.passphrase_needed`` without one."""
        if not sys.stdin.isatty():
            raise UserError("error.passphrase_needed")
        return getpass.getpass("Sapan passphrase: ")

    def _prompt_new_passphrase(self) -> str:
        if not sys.stdin.isatty():
            raise UserError("error.passphrase_needed")
        first = getpass.getpass("New passphrase (it cannot be recovered if forgotten): ")
        if getpass.getpass("Repeat the passphrase: ") != first:
            raise UserError("error.passphrase_mismatch")
        return first

    def info(self, message: str) -> None:
        self.err.write(message + "\n")

    def error(self, exc: UserError) -> None:
        self.err.write(f"sapan: {exc.translated(self.lang)}\n")
        for found in exc.issues:
            from desktop.domain.i18n import text

            where = f" [{found.field}]" if found.field else ""
            self.err.write(f"  - {text(found.code, self.lang, **dict(found.params))}{where}\n")
