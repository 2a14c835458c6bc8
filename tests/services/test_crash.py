"""Bug reports: where it went wrong, without anyone's personal data; the crash log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from desktop.services import crash

NAME = "Somchai Jaidee"  # a person's data, in messages and values only


def _raised(fn: object) -> BaseException:
    try:
        fn()  # type: ignore[operator]
    except BaseException as exc:
        return exc
    raise AssertionError("nothing was raised")


def _lookup(people: dict[str, int]) -> int:
    return people[NAME]


def test_a_report_names_the_exception_and_its_frames_but_not_its_message() -> None:
    exc = _raised(lambda: _lookup({}))

    report = crash.report(
        exc, {"Qt": "6.11.3"}, now=dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
    )

    assert report.startswith("Sapan ")
    assert "2026-11-24 09:30:00 UTC" in report
    assert "Qt 6.11.3" in report
    assert "\nKeyError\n" in report
    assert 'File "tests/services/test_crash.py"' in report
    assert "in _lookup" in report
    assert "return people[NAME]" in report  # the line of code, not the value it held
    assert NAME not in report


def test_a_query_s_parameters_stay_out_of_the_report() -> None:
    engine = sa.create_engine("sqlite://")
    table = sa.Table("people", sa.MetaData(), sa.Column("name", sa.Text, unique=True))
    table.create(engine)

    def insert_twice() -> None:
        with engine.begin() as connection:
            connection.execute(table.insert(), [{"name": NAME}, {"name": NAME}])

    exc = _raised(insert_twice)

    assert NAME in str(exc)  # SQLAlchemy puts the parameters in its message
    report = crash.report(exc)
    assert "sqlalchemy.exc.IntegrityError" in report
    assert NAME not in report


def test_a_chain_reads_from_the_first_exception_raised() -> None:
    def convert() -> None:
        try:
            _lookup({})
        except KeyError as exc:
            raise ValueError(NAME) from exc

    def handle() -> None:
        try:
            convert()
        except ValueError:
            _ = 1 / 0

    report = crash.report(_raised(handle))

    first, cause, context = (report.index(name) for name in ("KeyError", "ValueError", "Zero"))
    assert first < cause < context
    assert "direct cause" in report[first:cause]
    assert "While handling" in report[cause:context]
    assert NAME not in report


def test_paths_above_a_package_are_left_out(tmp_path: Path) -> None:
    home = "/home/somchai/Desktop/stuff.py"
    code = compile("raise RuntimeError('" + NAME + "')", home, "exec")
    exc = _raised(lambda: exec(code))  # a frame in a file outside any package

    report = crash.report(exc)

    assert 'File "stuff.py"' in report
    assert "somchai" not in report
    assert crash._where("C:/Users/somchai/sapan/Lib/site-packages/sqlalchemy/engine/base.py") == (
        "sqlalchemy/engine/base.py"
    )


def test_each_report_is_added_to_the_crash_log(tmp_path: Path) -> None:
    first, path = crash.record(tmp_path, _raised(lambda: _lookup({})))
    second, again = crash.record(tmp_path, _raised(lambda: 1 / 0))

    assert path == again == crash.log_path(tmp_path)
    assert path is not None
    assert path.read_text(encoding="utf-8") == first + "\n" + second + "\n"


def test_the_log_keeps_its_newest_reports_within_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crash, "MAX_LOG_BYTES", 4_000)
    reports = [crash.record(tmp_path, _raised(lambda: _lookup({})))[0] for _ in range(20)]
    path = crash.log_path(tmp_path)

    kept = path.read_text(encoding="utf-8")

    assert path.stat().st_size <= 4_000 + len(reports[-1]) + 1
    assert kept.endswith(reports[-1] + "\n")
    assert kept.startswith("Sapan ")  # whole reports only


def test_a_log_that_cannot_be_written_still_gives_the_report(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.write_text("a file where the data folder should be")

    report, path = crash.record(folder, _raised(lambda: _lookup({})))

    assert path is None
    assert "KeyError" in report
    assert folder.read_text() == "a file where the data folder should be"
