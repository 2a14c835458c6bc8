"""The case file (desktop/ui/case_file.py): the track panel says which forms a track still
waits on, in the current language, until they are printed."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from desktop.models.store import Store
from desktop.services import cases, people, printing, ui_wizards
from desktop.ui.case_file import CaseFileView
from desktop.ui.context import AppContext


def _claim(store: Store) -> str:
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("နန်း")]))
    prepared = {
        "bank_name": "Krungthai",
        "bank_account": "1234567890",
        "claimant_signs": "signature",
    }
    steps = [("prepare_claim", prepared, "ready"), ("submit_claim", {}, "not_started")]
    ui_wizards.commit_track(
        store, case_id, ui_wizards.TrackCommit("claim", "claim_maternity", steps)
    )
    return case_id


def _load(qtbot: QtBot, view: CaseFileView, case_id: str) -> str:
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.load(case_id)
    view.tabs.setCurrentIndex(3)  # tracks
    return view.steps_label.text()


def test_the_track_panel_lists_the_forms_still_to_print(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    case_id = _claim(store)
    view = CaseFileView(ctx)
    qtbot.addWidget(view)
    view.show()
    shown = _load(qtbot, view, case_id)
    assert "Forms still to print:" in shown
    assert "sso_2_01" not in shown  # the form by its name, not its code
    ctx.language.set_language("th")
    qtbot.wait(10)  # the language change event reaches the view
    assert "แบบฟอร์มที่ยังต้องพิมพ์" in view.steps_label.text()

    printing.record_printed(store, case_id, None, "print")
    shown = _load(qtbot, view, case_id)
    assert "แบบฟอร์มที่ยังต้องพิมพ์" not in shown
    assert cases.get_case_file(store, case_id).tracks[0].steps[0].state == "ready"
