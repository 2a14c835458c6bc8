"""Screenshots of the desktop app in Thai and Burmese for docs/screenshots/ (``make screenshots``).

Starts Xvfb (a real X server without a screen), opens the app's widgets on a demo store
in a temporary folder, and saves ``QWidget.grab()`` images of the main window, a case
file, a wizard step and the journey timeline. Falls back to Qt's offscreen platform when
Xvfb is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.models.store import Store

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


def start_xvfb() -> subprocess.Popen[bytes] | None:
    if shutil.which("Xvfb") is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    display = os.environ.get("SCREENSHOT_DISPLAY", ":97")  # another, if :97 is taken
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
    time.sleep(1.0)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    return proc


def main() -> int:
    xvfb = start_xvfb()
    os.environ.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false")
    os.environ.setdefault("SAPAN_KDF_N", "1024")
    try:
        return shoot()
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)


def shoot() -> int:
    import datetime as dt

    from PySide6.QtWidgets import QApplication

    from desktop.models.store import create_store
    from desktop.services import cases, demo
    from desktop.ui.app import install_fonts
    from desktop.ui.context import AppContext
    from desktop.ui.dialogs import Dialogs
    from desktop.ui.i18n import LanguageSwitch
    from desktop.ui.main_window import MainWindow
    from desktop.ui.operations import Operations
    from desktop.ui.wizard import WorkflowWizard
    from desktop.ui.workflow_specs import load_specs

    app = QApplication(sys.argv[:1])
    install_fonts(app)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = create_store(Path(tmp) / "store", "screenshots only")
        demo.generate(store, 80, seed=7, today=dt.date(2026, 3, 15))
        language = LanguageSwitch()
        ops = Operations()
        ctx = AppContext(store, ops, Dialogs(), language, today=lambda: dt.date(2026, 3, 15))
        window = MainWindow(ctx)
        window.resize(1280, 800)
        window.show()
        window.start()

        def settle(ms: int = 400) -> None:
            end = time.monotonic() + ms / 1000
            while time.monotonic() < end or ops.busy:
                app.processEvents()
                time.sleep(0.01)

        settle()
        ids = cases.list_case_ids(store)
        with_tracks = [
            c
            for c in ids[:40]
            if len(tracks := cases.get_case_file(store, c).tracks) > 1
            and any(t.state != "closed" for t in tracks)
        ]
        case_id = with_tracks[0] if with_tracks else ids[0]
        for lang in ("th", "my"):
            language.set_language(lang)
            window.show_page(0)
            settle(600)
            window.grab().save(str(OUT / f"main-window-{lang}.png"))
            window.show_page(1)  # the Tasks page
            settle(600)
            window.grab().save(str(OUT / f"tasks-page-{lang}.png"))
            window.show_page(0)
            window.open_case(case_id)
            settle(600)
            window.case_file.tabs.setCurrentIndex(0)
            settle()
            window.grab().save(str(OUT / f"case-file-{lang}.png"))
            window.case_file.tabs.setCurrentIndex(3)
            shown = window.case_file.case
            open_tracks = (
                [i for i, t in enumerate(shown.tracks) if t.state != "closed"] if shown else []
            )
            window.case_file.track_list.setCurrentRow(open_tracks[0] if open_tracks else 0)
            settle()
            window.grab().save(str(OUT / f"tracks-{lang}.png"))
            window.case_file.tabs.setCurrentIndex(6)
            settle()
            window.grab().save(str(OUT / f"timeline-{lang}.png"))
            wizard = WorkflowWizard(ctx, load_specs()["claim_maternity"], case_id)
            wizard.resize(820, 560)
            wizard.show()
            settle()
            wizard.grab().save(str(OUT / f"wizard-{lang}.png"))
            wizard.hide()
            wizard.deleteLater()
        show_sync_state(store, case_id)
        language.set_language("th")
        window.show_page(2)  # the print queue
        settle(600)
        window.grab().save(str(OUT / "print-queue-th.png"))
        window.show_page(3)  # the Sync page
        settle(600)
        window.grab().save(str(OUT / "sync-page-th.png"))
        show_coordination(store)
        window.show_page(3)  # the Sync page again: a coordinator settles a conflict
        settle(600)
        window.sync_page.conflict_view.selectRow(0)
        scroll = window.sync_page.parentWidget().parentWidget().verticalScrollBar()
        scroll.setValue(scroll.maximum())
        settle()
        window.grab().save(str(OUT / "sync-conflicts-th.png"))
        for lang in ("th", "my"):
            language.set_language(lang)
            window.show_page(4)  # the Duplicates page
            settle(600)
            window.grab().save(str(OUT / f"duplicates-{lang}.png"))
        window.close()
        ops.wait()
        store.close()
    print(f"screenshots written to {OUT.relative_to(ROOT)}")
    return 0


def show_sync_state(store: Store, case_id: str) -> None:
    """A server address, a metered link, a colleague's scan still to fetch, and a name
    added to the case file shown that the server refused (its family name too long)."""
    from sqlalchemy import update

    from desktop.models.entities import OutboxEntry
    from desktop.services import cases, people, sync_view
    from desktop.services.sync import SyncService
    from sync import protocol as p
    from sync.client.http import SyncClient

    person_id = cases.get_case_file(store, case_id).person.id
    name_id = people.add_name(store, person_id, people.NameInput("Naw Eh Htoo", "latin"))
    with store.remote_session() as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.row_id == name_id)
            .values(last_error="errno 105: person_name.family_name: longer than 200", attempts=2)
        )

    store.set_setting(sync_view.SERVER_SETTING, "https://sync.tak.example.org")
    sync_view.set_metered(store, True, 2048)
    scan = {"office": "TAK-01", "sha256": "cd" * 32, "filename": "passport.jpg", "size": 2_400_000}
    row = p.RowUpdate(
        entity="attachment", id="00000000-0000-4000-8000-000000000001", version=1, values=scan
    )
    page = p.PullPage(since=0, rows=[row], merges=[], conflicts=[], cursor=0, more=False)
    # applying a page needs no network: the client is never called
    SyncService(store, SyncClient(sync_view.offline_http())).apply_page(page)


def show_coordination(store: Store) -> None:
    """A coordinator's device: the same worker recorded twice (one passport), a merge the
    server reported, and conflicts on a birth date and on a step's entries."""
    from sqlalchemy import select

    from desktop.models.entities import IdentityDocument, PersonName, Step
    from desktop.services import coordination, people, sync_view
    from desktop.services.sync import SyncService
    from sync import protocol as p
    from sync.client.http import SyncClient

    store.set_setting(coordination.ROLE_SETTING, "coordinator")
    with store.read() as session:
        docs = session.execute(
            select(IdentityDocument.person_id, IdentityDocument.kind, IdentityDocument.number)
            .where(IdentityDocument.kind == "passport")
            .limit(2)
        ).all()
        name = session.scalars(
            select(PersonName.full_name).where(PersonName.person_id == docs[0][0])
        ).first()
    people.create_person(
        store,
        people.PersonInput(
            names=[people.NameInput(name or "Aung Aung", "latin")],
            documents=[people.DocumentInput(docs[0][1], docs[0][2])],
        ),
    )
    # the value in force is the one the row holds, as a pull leaves it
    people.update_person(store, docs[1][0], birth_date="1991-01-02")
    side = {"device_id": "laptop-2", "user_id": "somchai"}
    conflict = p.ConflictRecord(
        id="00000000-0000-4000-8000-0000000000c1",
        seq=2,
        entity="person",
        row_id=docs[1][0],
        field="birth_date",
        office="TAK-01",
        applied=p.Side(value="1991-01-02", hlc="0001773500000000-0000-laptop-2", **side),
        other=p.Side(value="1990-02-01", hlc="0001773400000000-0000-laptop-1", **side),
        status="open",
    )
    # two caseworkers filled one step differently: only the entries in dispute show
    with store.read() as session:
        step_id = session.scalars(select(Step.id).where(Step.data.is_not(None)).limit(1)).one()
    entries = {"hospital": "โรงพยาบาลแม่สอด", "event_date": "2026-11-02"}
    step_conflict = p.ConflictRecord(
        id="00000000-0000-4000-8000-0000000000c2",
        seq=4,
        entity="step",
        row_id=step_id,
        field="data",
        office="TAK-01",
        applied=p.Side(value=entries, hlc="0001773600000000-0000-laptop-2", **side),
        other=p.Side(
            value={"hospital": "โรงพยาบาลตาก", "event_date": "2026-11-01"},
            hlc="0001773500000000-0000-laptop-1",
            **side,
        ),
        status="open",
    )
    merge = p.MergeRecord(
        id="00000000-0000-4000-8000-0000000000e1",
        seq=3,
        entity="person",
        source_id=docs[1][0],
        target_id=docs[0][0],
        office="TAK-01",
        merged_by="nok",
        undone=True,
    )
    conflicts = [conflict, step_conflict]
    page = p.PullPage(since=1, rows=[], merges=[merge], conflicts=conflicts, cursor=4, more=False)
    SyncService(store, SyncClient(sync_view.offline_http())).apply_page(page)


if __name__ == "__main__":
    sys.exit(main())
