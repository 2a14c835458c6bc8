"""The operation helper: work off the GUI thread, results back on it, keys, cancel, owners."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from desktop.domain.errors import UserError
from desktop.ui import operations
from desktop.ui.operations import Operations, Progress


def _ops() -> tuple[Operations, list[UserError], list[BaseException]]:
    user_errors: list[UserError] = []
    bugs: list[BaseException] = []
    return Operations(on_user_error=user_errors.append, on_bug=bugs.append), user_errors, bugs


def _settle(qtbot: QtBot, ops: Operations) -> None:
    qtbot.waitUntil(lambda: not ops.busy, timeout=5000)


def test_work_runs_off_the_gui_thread_and_the_result_comes_back_on_it(qtbot: QtBot) -> None:
    ops, _errors, _bugs = _ops()
    gui = QThread.currentThread()
    seen: dict[str, object] = {}

    def work() -> int:
        seen["worker_is_gui"] = QThread.currentThread() is gui
        return 42

    def done(result: int) -> None:
        seen["result"] = result
        seen["callback_is_gui"] = QThread.currentThread() is QApplication.instance().thread()

    ops.run(work, on_success=done)
    _settle(qtbot, ops)
    assert seen == {"worker_is_gui": False, "result": 42, "callback_is_gui": True}


def test_user_errors_and_bugs_go_to_their_handlers(qtbot: QtBot) -> None:
    ops, user_errors, bugs = _ops()

    def refuse() -> None:
        raise UserError("error.case_not_found")

    def crash() -> None:
        raise ZeroDivisionError

    ops.run(refuse)
    ops.run(crash)
    _settle(qtbot, ops)
    assert [e.code for e in user_errors] == ["error.case_not_found"]
    assert [type(b) for b in bugs] == [ZeroDivisionError]


def test_a_bug_is_reported_even_where_the_caller_handles_failures(qtbot: QtBot) -> None:
    """The caller's handler puts its widget right; the bug still reaches the crash report,
    and a refusal does not."""
    ops, user_errors, bugs = _ops()
    handled: list[BaseException] = []

    def crash() -> None:
        raise ZeroDivisionError

    def refuse() -> None:
        raise UserError("error.case_not_found")

    ops.run(crash, on_failure=handled.append)
    ops.run(refuse, on_failure=handled.append)
    _settle(qtbot, ops)

    assert {type(e) for e in handled} == {ZeroDivisionError, UserError}  # two readers: any order
    assert [type(b) for b in bugs] == [ZeroDivisionError]
    assert user_errors == []  # the caller's handler had it


def test_a_bug_is_reported_when_nobody_is_left_to_hear_of_it(qtbot: QtBot) -> None:
    """Its widget closed, or a newer search superseded it: the bug is still reported, the
    callbacks are not called; a cancelled operation is no bug."""
    ops, _errors, bugs = _ops()
    label = QLabel()
    handled: list[BaseException] = []
    release = threading.Event()

    def crash_later() -> None:
        release.wait(5)
        raise ZeroDivisionError

    def cancelled() -> None:
        raise operations.Cancelled

    ops.run(crash_later, on_failure=handled.append, owner=label)
    ops.run(crash_later, on_failure=handled.append, key="search")
    ops.run(lambda: "newer", key="search")
    ops.run(cancelled, on_failure=handled.append)
    label.deleteLater()
    qtbot.wait(10)
    release.set()
    _settle(qtbot, ops)

    assert handled == []
    assert [type(b) for b in bugs] == [ZeroDivisionError, ZeroDivisionError]


def test_a_newer_operation_with_the_same_key_supersedes_the_older(qtbot: QtBot) -> None:
    ops, _errors, _bugs = _ops()
    release = threading.Event()
    delivered: list[str] = []

    def slow() -> str:
        release.wait(5)
        return "old"

    ops.run(slow, on_success=delivered.append, key="search")
    ops.run(lambda: "new", on_success=delivered.append, key="search")
    release.set()
    _settle(qtbot, ops)
    assert delivered == ["new"]


def test_a_long_operation_reports_progress_and_stops_when_cancelled(qtbot: QtBot) -> None:
    ops, _errors, bugs = _ops()
    reported: list[tuple[int, int]] = []
    finished: list[object] = []

    def long(progress: Progress) -> None:
        for done in range(1000):
            progress.report(done, 1000)
            time.sleep(0.002)

    handle = ops.run(
        long,
        progress=True,
        on_progress=lambda d, t: reported.append((d, t)),
        on_success=finished.append,
    )
    qtbot.waitUntil(lambda: len(reported) >= 3, timeout=5000)
    handle.cancel()
    _settle(qtbot, ops)
    assert finished == []
    assert bugs == []
    assert reported[0] == (0, 1000)
    assert len(reported) < 1000


def test_callbacks_for_a_deleted_owner_are_dropped(qtbot: QtBot) -> None:
    ops, _errors, bugs = _ops()
    release = threading.Event()
    label = QLabel()

    def work() -> str:
        release.wait(5)
        return "late"

    ops.run(work, on_success=label.setText, owner=label)
    label.deleteLater()
    qtbot.waitUntil(lambda: not _alive(label), timeout=5000)
    release.set()
    _settle(qtbot, ops)  # setText on a deleted label would raise in the event loop
    assert bugs == []


class _Held:
    """What a callback holds (a widget, a model): the test watches it die."""


def test_what_the_callbacks_hold_is_let_go_once_the_operations_end(qtbot: QtBot) -> None:
    """Every operation's signal object kept its callbacks, and what they held, for good:
    forty searches kept forty result models alive."""
    ops, user_errors, _bugs = _ops()
    held: list[weakref.ref[_Held]] = []
    gc.collect()
    signal_objects = _signal_objects()

    def refuse() -> None:
        raise UserError("error.case_not_found")

    def counted(progress: Progress) -> int:
        progress.report(1, 1)
        return 1

    for index in range(40):
        thing = _Held()
        held.append(weakref.ref(thing))
        work = (time.monotonic, refuse, counted)[index % 3]
        ops.run(
            work,
            on_success=lambda _r, thing=thing: None,
            on_failure=lambda exc, thing=thing: user_errors.append(exc),
            on_progress=lambda _d, _t, thing=thing: None,
            progress=work is counted,
            write=index % 2 == 0,
        )
        del thing
    _settle(qtbot, ops)
    ops.wait()  # also takes apart the last ones, should their workers have been slow
    qtbot.wait(50)  # the deferred deletes
    gc.collect()
    assert len(user_errors) == 13
    assert [ref for ref in held if ref() is not None] == []
    assert _signal_objects() <= signal_objects  # nor the signal objects themselves


def _signal_objects() -> int:
    return sum(isinstance(o, operations._Signals) for o in gc.get_objects())


def _alive(widget: QLabel) -> bool:
    from shiboken6 import Shiboken

    return bool(Shiboken.isValid(widget))
