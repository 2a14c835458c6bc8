"""Data commands: ``import``, ``export``, ``demo``, ``search``, ``case``, ``db``.

``sapan export`` has sub-commands, one per kind of export (``sapan export people --format
csv -o FILE``, ``sapan export person TAK-0042-000123 -o FILE`` for one person's data on
their request). Another area adds its own kinds with :func:`add_export_kind`, called from
its ``register(subparsers)`` with the same top-level ``subparsers``; it works whichever
area registers first::

    from desktop.cli.data import add_export_kind

    def register(subparsers):
        parser = add_export_kind(subparsers, "sso-registrations", "SSO e-filing layout")
        parser.add_argument("-o", "--output", required=True)
        parser.set_defaults(handler=run_sso_registrations)

Exit codes: 0 done, 2 an expected problem (message on stderr), 3 an import that finished
but rejected some rows (see the report).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.common import Cli, add_json_option
from desktop.domain.errors import UserError
from desktop.domain.i18n import coded_name, text

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
EXIT_ROWS_REJECTED = 3


def register(subparsers: SubParsers) -> None:
    _register_import(subparsers)
    _export_parser(subparsers)
    people = add_export_kind(subparsers, "people", "people with names, documents and cases")
    people.add_argument("--format", choices=("csv", "json"), default="csv")
    people.add_argument("-o", "--output", required=True, metavar="FILE")
    people.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_json_option(people)
    people.set_defaults(handler=run_export_people)
    person = add_export_kind(
        subparsers, "person", "everything held about one person, on their request (PDPA)"
    )
    person.add_argument("key", metavar="CASE_OR_PERSON", help="a case number or a person id")
    person.add_argument("-o", "--output", required=True, metavar="FILE")
    person.add_argument(
        "--files", action="store_true", help="also decrypt their attached files into a ZIP"
    )
    person.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    add_json_option(person)
    person.set_defaults(handler=run_export_person)

    demo = subparsers.add_parser("demo", help="add synthetic demo people, employers and cases")
    demo.add_argument("--people", type=int, default=200, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--no-contributions", action="store_true", help="skip contribution histories")
    add_json_option(demo)
    demo.set_defaults(handler=run_demo)

    search = subparsers.add_parser("search", help="find people and their cases")
    search.add_argument("text", metavar="TEXT")
    search.add_argument("--limit", type=int, default=20)
    add_json_option(search)
    search.set_defaults(handler=run_search)

    case = subparsers.add_parser("case", help="list and show cases")
    case_sub = case.add_subparsers(dest="case_command", metavar="SUBCOMMAND", required=True)
    listing = case_sub.add_parser("list", help="list cases")
    listing.add_argument("--province", metavar="CODE", help="two-digit province code")
    listing.add_argument("--status", choices=("open", "closed"))
    listing.add_argument("--text", default="", help="only cases of people matching TEXT")
    listing.add_argument("--limit", type=int, default=50)
    add_json_option(listing)
    listing.set_defaults(handler=run_case_list)
    show = case_sub.add_parser("show", help="show one case file")
    show.add_argument("number", metavar="NUMBER")
    add_json_option(show)
    show.set_defaults(handler=run_case_show)
    step = case_sub.add_parser(
        "step", help="move a step of a case forward (as the case file's buttons do)"
    )
    reopen = case_sub.add_parser("reopen", help="move a step of a case back, with a reason")
    for parser in (step, reopen):
        parser.add_argument("number", metavar="NUMBER", help="case number or id")
        parser.add_argument("step", metavar="STEP", help="step key, e.g. submit_claim")
        parser.add_argument("state", metavar="STATE", help="e.g. submitted, approved, paid")
        parser.add_argument(
            "--track", default=None, help="workflow key or benefit, when two tracks have STEP"
        )
        add_json_option(parser)
    reopen.add_argument("--reason", required=True, help="why it goes back (kept in the history)")
    step.set_defaults(handler=run_case_step)
    reopen.set_defaults(handler=run_case_step)

    db = subparsers.add_parser("db", help="check or back up the local store")
    db_sub = db.add_subparsers(dest="db_command", metavar="SUBCOMMAND", required=True)
    check = db_sub.add_parser("check", help="integrity and encryption check")
    check.add_argument(
        "--files", action="store_true", help="also read back every scan (slower: it decrypts them)"
    )
    add_json_option(check)
    check.set_defaults(handler=run_db_check)
    backup = db_sub.add_parser(
        "backup", help="the whole store, still encrypted, into a new folder that opens on its own"
    )
    backup.add_argument("path", metavar="PATH")
    add_json_option(backup)
    backup.set_defaults(handler=run_db_backup)
    restore = db_sub.add_parser(
        "restore", help="make a backup folder the store of an empty data folder (a new laptop)"
    )
    restore.add_argument("backup", metavar="BACKUP_FOLDER")
    add_json_option(restore)
    restore.set_defaults(handler=run_db_restore)


# --- export sub-commands -------------------------------------------------------------------


def _export_parser(subparsers: SubParsers) -> argparse.ArgumentParser:
    existing = subparsers.choices.get("export")
    if existing is not None:
        parser: argparse.ArgumentParser = existing
        return parser
    parser = subparsers.add_parser("export", help="export data (people, SSO files, ...)")
    kinds = parser.add_subparsers(dest="export_kind", metavar="KIND", required=True)
    parser.set_defaults(_export_kinds=kinds)
    parser._sapan_export_kinds = kinds  # type: ignore[attr-defined]
    return parser


def add_export_kind(subparsers: SubParsers, name: str, help: str) -> argparse.ArgumentParser:
    """A new ``sapan export NAME`` sub-command; the caller adds options (also ``--json``)."""
    parser = _export_parser(subparsers)
    kinds: SubParsers = parser._sapan_export_kinds  # type: ignore[attr-defined]
    sub: argparse.ArgumentParser = kinds.add_parser(name, help=help)
    return sub


def run_export_people(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import exporter

    path = Path(args.output)
    with cli.open_store(create=False) as store:
        count = exporter.export_people(store, path, args.format, overwrite=args.force)
    cli.emit(
        {"people": count, "path": str(path), "format": args.format},
        text("export.written", cli.lang, count=count, path=str(path)),
    )
    return 0


def run_export_person(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import exporter

    with cli.open_store(create=False) as store:
        done = exporter.export_person(
            store, args.key, Path(args.output), overwrite=args.force, files=args.files
        )
    cli.emit(
        {
            "person_id": done.person_id,
            "path": str(done.path),
            "files_path": str(done.files_path) if done.files_path else None,
            "files": done.files,
            "files_missing": done.files_missing,
            "files_lost": done.files_lost,
            "rows": done.rows,
        },
        exporter.person_export_text(done, lambda key, **params: text(key, cli.lang, **params)),
    )
    return 0


# --- import --------------------------------------------------------------------------------


def _register_import(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("import", help="import an agency list (CSV or XLSX)")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument(
        "--map",
        metavar="FIELD=HEADER,...",
        help="name the column of a field when its header is not recognised",
    )
    parser.add_argument("--report", metavar="FILE", help="write every problem to FILE (CSV)")
    parser.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    parser.add_argument("--batch", type=int, default=100, help=argparse.SUPPRESS)
    add_json_option(parser)
    parser.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import importer

    path = Path(args.file)
    overrides = importer.parse_map_option(args.map) if args.map else None
    if args.report:  # a report that cannot be written is said before any row goes in
        importer.check_report_path(Path(args.report), path)

    def progress(rows: int, committed: int) -> None:
        cli.info(text("import.progress", cli.lang, count=rows, committed=committed))

    try:
        if args.dry_run:
            from desktop.models.store import store_exists

            if store_exists(cli.data_dir):
                with cli.open_store(create=False) as store:
                    report = importer.import_file(store, path, overrides=overrides, dry_run=True)
            else:
                report = importer.import_file(None, path, overrides=overrides, dry_run=True)
        else:
            with cli.open_store() as store:
                report = importer.import_file(
                    store, path, overrides=overrides, batch_rows=args.batch, progress=progress
                )
    except UserError as exc:
        if args.report:
            importer.write_report([importer.fatal_problem(exc)], Path(args.report), cli.lang)
        raise
    if args.report:
        importer.write_report(report.problems, Path(args.report), cli.lang)
    summary = text(
        "import.summary",
        cli.lang,
        count=report.rows_read,
        encoding=report.encoding or report.file_format.upper(),
        imported=report.imported,
        present=report.already_present,
        rejected=report.rejected,
    )
    lines = [summary]
    if report.ignored:  # a column not recognised is not dropped without a word
        lines.append(text("import.columns_ignored", cli.lang, columns=", ".join(report.ignored)))
    if report.other_sheets:  # nor the people on a workbook's other sheets
        sheets = ", ".join(report.other_sheets)
        lines.append(text("import.other_sheets", cli.lang, sheets=sheets))
    if report.dry_run:
        lines.append(text("import.dry_run", cli.lang))
    for problem in report.problems[:20]:
        where = f" [{problem.column}]" if problem.column else ""
        lines.append(f"  row {problem.row}{where} {problem.code}: {problem.message(cli.lang)}")
    if len(report.problems) > 20:
        lines.append("  ...")
    if args.report:
        lines.append(
            text("import.report_written", cli.lang, count=len(report.problems), path=args.report)
        )
    cli.emit(report.to_dict(cli.lang), "\n".join(lines))
    return EXIT_ROWS_REJECTED if report.rejected else 0


# --- demo, search, cases -------------------------------------------------------------------


def run_demo(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import demo

    step = max(1, args.people // 20)

    def progress(done: int, total: int) -> None:
        if total >= 500 and (done % step < demo.BATCH_PEOPLE or done == total):
            cli.info(text("demo.progress", cli.lang, done=done, count=total))

    with cli.open_store() as store:
        summary = demo.generate(
            store,
            args.people,
            seed=args.seed,
            contributions=not args.no_contributions,
            progress=progress,
        )
    data = {
        "people": summary.people,
        "employers": summary.employers,
        "cases": summary.cases,
        "tracks": summary.tracks,
        "seconds": round(summary.seconds, 1),
    }
    cli.emit(data, text("demo.done", cli.lang, **data))
    return 0


def run_search(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services.search import search

    with cli.open_store(create=False) as store:
        hits = search(store, args.text, args.limit)
    data = [
        {
            "person_id": h.person_id,
            "rank": h.rank,
            "names": list(h.names),
            "documents": list(h.documents),
            "cases": list(h.case_numbers),
        }
        for h in hits
    ]
    lines = [
        f"{', '.join(h.case_numbers) or '-':<18} {' / '.join(h.names)}  [{'; '.join(h.documents)}]"
        for h in hits
    ]
    cli.emit(data, "\n".join(lines) or text("search.none", cli.lang, query=args.text))
    return 0


def run_case_list(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import cases

    filters = cases.CaseFilter(
        text=args.text, status=args.status, province_code=args.province or None
    )
    with cli.open_store(create=False) as store:
        ids = cases.list_case_ids(store, filters)
        rows = cases.case_rows(store, ids[: max(0, args.limit)])
    data = [
        {
            "number": r.number,
            "name": r.name,
            "status": r.status,
            "province": r.province_code,
            "opened_on": r.opened_on,
            "tracks": r.tracks,
            "pending_changes": r.pending_changes,
        }
        for r in rows
    ]
    lines = [
        f"{r.number:<18} {r.status:<7} {r.province_code or '--':<3} {r.name}  ({r.tracks})"
        for r in rows
    ]
    cli.emit(data, "\n".join(lines) or text("case.none", cli.lang))
    return 0


def run_case_show(args: argparse.Namespace, cli: Cli) -> int:
    import dataclasses

    from desktop.services import cases

    with cli.open_store(create=False) as store:
        case_file = cases.get_case_file(store, args.number)
    data = dataclasses.asdict(case_file)
    cli.emit(data, _case_text(case_file, cli.lang))
    return 0


def run_case_step(args: argparse.Namespace, cli: Cli) -> int:
    import dataclasses

    from desktop.services import steps

    with cli.open_store(create=False) as store:
        step_id = steps.find_step(store, args.number, args.step, args.track)
        if args.case_command == "reopen":
            moved = steps.reopen_step(store, step_id, args.reason, args.state)
        else:
            moved = steps.move_step(store, step_id, args.state)
    said = text(
        "case.step_moved",
        cli.lang,
        step=args.step,
        from_state=moved.from_state,
        to_state=moved.to_state,
        track_state=moved.track_state,
    )
    cli.emit({"step": args.step, **dataclasses.asdict(moved)}, said)
    return 0


def _case_text(case_file: Any, lang: str) -> str:
    person = case_file.person
    # coded details named as the case file names them (a code not in the catalogue as it
    # is, one not recorded as "—")
    details = "  ".join(
        coded_name(prefix, code, lang) or "—"
        for prefix, code in (
            ("ui.nationality", person.nationality),
            ("ui.sex", person.sex),
            ("ui.title", person.title),
            ("ui.marital", person.marital_status),
        )
    )
    lines = [
        f"{case_file.number}  {case_file.status}  province {case_file.province_code or '--'}"
        f"  opened {case_file.opened_on}",
        f"  {' / '.join(n.full_name for n in person.names)}",
        f"  born {person.birth_date or '?'}  {details}",
    ]
    lines += [f"  {d.kind}: {d.number}" for d in person.documents]
    for e in case_file.employments:
        lines.append(
            f"  employer: {e.employer_name} ({e.employer_sso_account}) from {e.start_date}"
        )
    if case_file.contributions:
        lines.append(
            f"  contributions: {len(case_file.contributions)} months "
            f"{case_file.contributions[0].month} .. {case_file.contributions[-1].month}"
        )
    for t in case_file.tracks:
        ended = f" ({t.outcome}, {t.decided_on})" if t.outcome else ""
        lines.append(f"  track {t.benefit or t.kind}: {t.state}{ended}")
        lines += [f"    {s.position + 1}. {s.key}: {s.state}" for s in t.steps]
    lines += [f"  note {n.written_at}: {n.body}" for n in case_file.notes]
    return "\n".join(lines)


# --- db --------------------------------------------------------------------------------------


def run_db_check(args: argparse.Namespace, cli: Cli) -> int:
    from sqlalchemy import func, select
    from sqlalchemy import text as sql

    from desktop.models.entities import Case, OutboxEntry, Person
    from desktop.models.store import SQLITE_HEADER
    from desktop.services import attachments

    with cli.open_store(create=False) as store:
        path = store.paths.db
        with path.open("rb") as handle:
            encrypted = handle.read(16) != SQLITE_HEADER
        with store.engine.connect() as conn:
            integrity = [r[0] for r in conn.execute(sql("PRAGMA integrity_check"))]
            cipher = [r[0] for r in conn.execute(sql("PRAGMA cipher_integrity_check"))]
        with store.read() as session:
            people = session.scalar(select(func.count()).select_from(Person)) or 0
            cases_ = session.scalar(select(func.count()).select_from(Case)) or 0
            pending = session.scalar(select(func.count()).select_from(OutboxEntry)) or 0
        scans = attachments.check_blobs(store) if args.files else None
    problems = [p for p in integrity if p != "ok"] + cipher
    if not encrypted:
        problems.append("not encrypted")
    data = {
        "path": str(path),
        "encrypted": encrypted,
        "integrity_check": integrity,
        "cipher_integrity_check": cipher,
        "people": people,
        "cases": cases_,
        "pending_changes": pending,
    }
    if scans is not None:
        data["scans"] = {
            "ok": scans.ok,
            "damaged": list(scans.damaged),
            "not_on_this_device": scans.not_here,
            "lost": list(scans.lost),
        }
        problems += [text("db.scan_damaged", cli.lang, sha256=s) for s in scans.damaged]
        problems += [text("db.scan_lost", cli.lang, sha256=s) for s in scans.lost]
    data["ok"] = not problems
    if problems:
        detail = "; ".join(problems[:5])
        if cli.as_json:
            cli.emit(data)
        raise UserError("db.check_failed", path=str(path), detail=detail)
    counts = {"people": people, "cases": cases_, "pending": pending}
    said = text("db.check_ok", cli.lang, path=str(path), **counts)
    if scans is not None:
        said += "\n" + text("db.scans_ok", cli.lang, ok=scans.ok, not_here=scans.not_here)
    cli.emit(data, said)
    return 0


def run_db_restore(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services.backup import restore_store

    passphrase = cli.given_passphrase()
    if passphrase is None:
        passphrase = cli.ask_passphrase()
    done = restore_store(Path(args.backup), cli.data_dir, passphrase)
    cli.emit(
        {"path": str(done.path), "files": done.files},
        text("db.restore_done", cli.lang, path=str(done.path), count=done.files),
    )
    return 0


def run_db_backup(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services.backup import backup_store

    shown = -1

    def progress(done: int, total: int) -> None:
        nonlocal shown
        percent = done * 100 // max(total, 1)
        if percent // 10 > shown // 10:
            shown = percent
            cli.info(text("db.backup_progress", cli.lang, percent=percent))

    with cli.open_store(create=False) as store:
        made = backup_store(store, Path(args.path), progress)
    cli.emit(
        {
            "path": str(made.path),
            "database_bytes": made.database_bytes,
            "files": made.files,
            "file_bytes": made.file_bytes,
        },
        text("db.backup_done", cli.lang, path=str(made.path), count=made.files),
    )
    return 0
