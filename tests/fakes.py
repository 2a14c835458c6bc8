"""Readable fakes shared by the tests: keyring, clock. One module, no mock trees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """An OS keyring that lives in memory only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.secrets[(service, username)]
        except KeyError as exc:
            raise PasswordDeleteError(username) from exc


class FakeClock:
    """A clock the test moves by hand: ``clock.now()`` and ``clock.advance(seconds=5)``."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2026, 3, 15, 9, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.current

    def today(self) -> dt.date:
        return self.current.date()

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


class FakeDialogs:
    """The UI's dialog service with scripted answers; records every message shown."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.errors: list[str] = []
        self.questions: list[str] = []
        self.confirm_answer = True
        self.files: list[object] = []  # paths handed out by open_file, first in first out
        self.save_paths: list[object] = []  # paths handed out by save_file, likewise
        self.save_requests: list[tuple[str, str]] = []  # (title, suggested name) asked
        self.texts: list[str | None] = []
        self.folders: list[object] = []  # folders handed out by choose_folder, likewise
        self.choices: list[int | None] = []  # answers of choose, likewise (none left: cancel)
        self.offered: list[list[str]] = []  # the options choose was asked with
        self.bugs: list[tuple[str, object | None]] = []  # (report, log path) of each bug shown

    def info(self, message: str) -> None:
        self.infos.append(message)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def confirm(self, message: str) -> bool:
        self.questions.append(message)
        return self.confirm_answer

    def open_file(self, title: str) -> object | None:
        return self.files.pop(0) if self.files else None

    def save_file(self, title: str, suggested_name: str) -> object | None:
        self.save_requests.append((title, suggested_name))
        return self.save_paths.pop(0) if self.save_paths else None

    def choose_folder(self, title: str) -> object | None:
        return self.folders.pop(0) if self.folders else None

    def choose(self, title: str, label: str, options: Sequence[str]) -> int | None:
        self.offered.append(list(options))
        return self.choices.pop(0) if self.choices else None

    def ask_text(self, title: str, label: str, *, secret: bool = False) -> str | None:
        return self.texts.pop(0) if self.texts else None

    def bug(self, report: str, log_path: object | None) -> None:
        self.bugs.append((report, log_path))
