"""``sapan coordinate``: a coordinator's work from the command line.

    sapan coordinate conflicts [--all] [--json]
    sapan coordinate resolve CONFLICT_ID --keep {current,other}
    sapan coordinate duplicates [--json]
    sapan coordinate merge {person,case} SOURCE_ID TARGET_ID     (B into A)
    sapan coordinate merges [--json]
    sapan coordinate undo-merge MERGE_ID

The lists read this device (conflicts and merges as the last sync brought them, people
as they are here); ``resolve``, ``merge`` and ``undo-merge`` ask the server, which alone
may settle or merge (see :mod:`desktop.services.coordination`). The rows they change
reach this device with the next ``sapan sync``. Ids are checked before anything is
opened or asked; a malformed one, an unregistered device and every refusal of the
server are a clear error (exit code 2).
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

from desktop.cli.common import Cli, add_json_option, translator
from desktop.domain import i18n
from desktop.domain.i18n import text

if TYPE_CHECKING:
    from desktop.services.cases import CaseRow
    from desktop.services.coordination import Conflict, DuplicatePair, Merge, Side
    from desktop.services.search import PersonSummary

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "coordinate", help="settle conflicts and merge duplicate people (coordinators)"
    )
    sub = parser.add_subparsers(dest="coordinate_command", metavar="SUBCOMMAND", required=True)

    conflicts = sub.add_parser("conflicts", help="conflicts this device got with its last sync")
    conflicts.add_argument("--all", action="store_true", help="settled ones too, not only open")
    add_json_option(conflicts)
    conflicts.set_defaults(handler=run_conflicts)

    resolve = sub.add_parser("resolve", help="settle a conflict on the server")
    resolve.add_argument("conflict_id", metavar="CONFLICT_ID")
    resolve.add_argument(
        "--keep",
        choices=("current", "other"),
        required=True,
        help="current: the value in force stays; other: the other value is put in force",
    )
    add_json_option(resolve)
    resolve.set_defaults(handler=run_resolve)

    duplicates = sub.add_parser("duplicates", help="people on this device who are probably one")
    duplicates.add_argument(
        "--cases", action="store_true", help="one person's two open cases instead of people"
    )
    add_json_option(duplicates)
    duplicates.set_defaults(handler=run_duplicates)

    merge = sub.add_parser("merge", help="merge B (SOURCE_ID) into A (TARGET_ID) on the server")
    merge.add_argument("entity", choices=("person", "case"))
    merge.add_argument("source_id", metavar="SOURCE_ID", help="B: the one merged away")
    merge.add_argument("target_id", metavar="TARGET_ID", help="A: the one that stays")
    add_json_option(merge)
    merge.set_defaults(handler=run_merge)

    merges = sub.add_parser("merges", help="merges this device knows of, newest first")
    add_json_option(merges)
    merges.set_defaults(handler=run_merges)

    undo = sub.add_parser("undo-merge", help="undo a merge on the server")
    undo.add_argument("merge_id", metavar="MERGE_ID")
    add_json_option(undo)
    undo.set_defaults(handler=run_undo_merge)


def _checked_id(value: str, name: str) -> str:
    from desktop.services.coordination import check_id  # not at start-up: see ``sapan``

    return check_id(value, name)


# --- conflicts -----------------------------------------------------------------------------


def run_conflicts(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination

    with cli.open_store(create=False) as store:
        found = coordination.conflicts(store, None if args.all else "open")
    translate = translator(cli.lang)
    data = [_conflict_data(c, i18n.detail_text(c.entity, c.field, translate)) for c in found]
    lines = [
        line
        for c, item in zip(found, data, strict=True)
        for line in _conflict_lines(c, item["what"], cli.lang)
    ]
    cli.emit(data, "\n".join(lines) or text("coordinate.no_conflicts", cli.lang))
    return 0


def _conflict_data(conflict: Conflict, what: str) -> dict[str, Any]:
    return {
        "id": conflict.id,
        "entity": conflict.entity,
        "field": conflict.field,
        "what": what,
        "row_id": conflict.row_id,
        "person_id": conflict.person_id,
        "person_name": conflict.person_name,
        "case_number": conflict.case_number,
        "in_force": _side_data(conflict.in_force),
        "other": _side_data(conflict.set_aside),
        "now": conflict.now.value if conflict.now else None,  # changed since (or null)
        "status": conflict.status,
        "resolved_by": conflict.resolved_by,
    }


def _side_data(side: Side) -> dict[str, Any]:
    return {"value": side.value, "by": side.by, "at": side.at.isoformat() if side.at else None}


def _conflict_lines(conflict: Conflict, what: str, lang: str) -> list[str]:
    status = text(f"coordinate.status.{conflict.status}", lang)
    lines = [text("coordinate.conflict", lang, id=conflict.id, what=what, status=status)]
    if conflict.person_name or conflict.case_number:
        name, case = conflict.person_name or "-", conflict.case_number or "-"
        lines.append(text("coordinate.conflict_person", lang, name=name, case=case))
    for key, side in (("in_force", conflict.in_force), ("other", conflict.set_aside)):
        lines.append(text(f"coordinate.conflict_{key}", lang, **_side_params(conflict, side, lang)))
    if conflict.now:  # a later edit changed it since: what "keep" keeps
        value = _side_params(conflict, conflict.now, lang)["value"]
        lines.append(text("coordinate.conflict_now", lang, value=value))
    if conflict.resolved_by:
        lines.append(text("coordinate.conflict_settled_by", lang, by=conflict.resolved_by))
    return lines


def _side_params(conflict: Conflict, side: Side, lang: str) -> dict[str, str]:
    from desktop.services import coordination

    shown = coordination.side_text(conflict, side, translator(lang))
    return {
        "value": shown or text("coordinate.empty_value", lang),
        "by": side.by or "?",
        "at": side.at.strftime("%Y-%m-%d %H:%M:%S UTC") if side.at else "?",
    }


def run_resolve(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination

    conflict_id = _checked_id(args.conflict_id, "CONFLICT_ID")
    with cli.open_store(create=False) as store:
        status = coordination.resolve_conflict(store, conflict_id, args.keep == "other")
    said = text(f"coordinate.status.{status}", cli.lang)
    lines = [
        text("coordinate.resolved", cli.lang, id=conflict_id, status=said),
        text("coordinate.resolved_next_sync", cli.lang),
    ]
    cli.emit({"id": conflict_id, "status": status}, "\n".join(lines))
    return 0


# --- duplicates and merges -----------------------------------------------------------------


def run_duplicates(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination

    if args.cases:
        return _case_duplicates(cli)
    with cli.open_store(create=False) as store:
        pairs = coordination.duplicate_people(store)
    translate = translator(cli.lang)
    data: list[dict[str, Any]] = [
        {
            "reason": pair.reason,
            "detail": pair.detail,
            "why": coordination.reason_text(pair, translate),
            "first": _person_data(pair.first),
            "second": _person_data(pair.second),
        }
        for pair in pairs
    ]
    lines = [
        line
        for pair, item in zip(pairs, data, strict=True)
        for line in _pair_lines(pair, item["why"], cli.lang)
    ]
    cli.emit(data, "\n".join(lines) or text("coordinate.no_duplicates", cli.lang))
    return 0


def _case_duplicates(cli: Cli) -> int:
    from desktop.services import cases, coordination

    with cli.open_store(create=False) as store:
        pairs = coordination.duplicate_cases(store)
    translate = translator(cli.lang)
    data = [
        {
            "person_id": pair.first.person_id,
            "name": pair.first.name,
            "first": _case_data(pair.first),
            "second": _case_data(pair.second),
        }
        for pair in pairs
    ]
    lines: list[str] = []
    for pair in pairs:
        lines.append(text("coordinate.case_pair", cli.lang, name=pair.first.name or "-"))
        for row in (pair.first, pair.second):
            lines.append(
                text(
                    "coordinate.duplicate_case",
                    cli.lang,
                    id=row.id,
                    number=row.number or "-",
                    opened=row.opened_on.isoformat() if row.opened_on else "?",
                    tracks=cases.tracks_text(row.tracks, translate) or "-",
                )
            )
        source, target = pair.second.id, pair.first.id
        lines.append(text("coordinate.merge_case_hint", cli.lang, source=source, target=target))
    cli.emit(data, "\n".join(lines) or text("coordinate.no_duplicate_cases", cli.lang))
    return 0


def _case_data(row: CaseRow) -> dict[str, Any]:
    return {
        "case_id": row.id,
        "number": row.number,
        "opened_on": row.opened_on.isoformat() if row.opened_on else None,
        "tracks": [t.strip() for t in row.tracks.split(",") if t.strip()],
    }


def _person_data(person: PersonSummary) -> dict[str, Any]:
    return {
        "person_id": person.person_id,
        "names": list(person.names),
        "documents": list(person.documents),
        "case_numbers": list(person.case_numbers),
        "birth_date": person.birth_date,
        "office": person.office,
    }


def _documents(documents: tuple[str, ...], lang: str) -> list[str]:
    from desktop.services.coordination import document_text

    return [document_text(doc, translator(lang)) for doc in documents]


def _pair_lines(pair: DuplicatePair, why: str, lang: str) -> list[str]:
    lines = [why]
    for person in (pair.first, pair.second):
        lines.append(
            text(
                "coordinate.duplicate_person",
                lang,
                id=person.person_id,
                name=" / ".join(person.names) or "-",
                birth=person.birth_date or "?",
                documents=", ".join(_documents(person.documents, lang)) or "-",
                cases=", ".join(person.case_numbers) or "-",
            )
        )
    source, target = pair.second.person_id, pair.first.person_id
    lines.append(text("coordinate.merge_hint", lang, source=source, target=target))
    return lines


def run_merge(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination

    source_id = _checked_id(args.source_id, "SOURCE_ID")
    target_id = _checked_id(args.target_id, "TARGET_ID")
    with cli.open_store(create=False) as store:
        made = coordination.merge(store, args.entity, source_id, target_id)
    lines = [
        text("coordinate.merged", cli.lang, **_merge_params(made, cli.lang)),
        text("coordinate.merged_next_sync", cli.lang, id=made.id),
    ]
    cli.emit(dataclasses.asdict(made), "\n".join(lines))
    return 0


def run_undo_merge(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination

    merge_id = _checked_id(args.merge_id, "MERGE_ID")
    with cli.open_store(create=False) as store:
        undone = coordination.undo_merge(store, merge_id)
    lines = [
        text("coordinate.undone", cli.lang, **_merge_params(undone, cli.lang)),
        text("coordinate.undone_next_sync", cli.lang),
    ]
    cli.emit(dataclasses.asdict(undone), "\n".join(lines))
    return 0


def run_merges(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination

    with cli.open_store(create=False) as store:
        found = coordination.merges(store)
    lines = [
        text(
            "coordinate.merge_line_undone" if m.undone else "coordinate.merge_line",
            cli.lang,
            **_merge_params(m, cli.lang),
        )
        for m in found
    ]
    data = [dataclasses.asdict(m) for m in found]
    cli.emit(data, "\n".join(lines) or text("coordinate.no_merges", cli.lang))
    return 0


def _merge_params(merge: Merge, lang: str) -> dict[str, str]:
    """What the merge texts name: the merge, its kind, B and A (name and id), who made it."""
    return {
        "id": merge.id,
        "entity": text(f"coordination.entity.{merge.entity}", lang),
        "source": _labelled(merge.source_name, merge.source_id),
        "target": _labelled(merge.target_name, merge.target_id),
        "by": merge.merged_by,
    }


def _labelled(name: str, row_id: str) -> str:
    return f"{name} [{row_id}]" if name else row_id
