"""``sapan sync``: one sync now, with a summary; ``sapan sync register`` for a new device."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
from typing import Any

from desktop.cli.common import Cli, add_json_option, translator
from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.domain.gc_tuning import tune_gc
from desktop.domain.i18n import text

# Exit codes of ``sapan sync`` (besides 2, a clear error, and 1, a bug; see desktop/cli):
EXIT_STOPPED = 3  # the sync stopped early (no server, busy, device revoked): run it again
EXIT_REFUSED = 4  # it ran, but the server refused changes: they wait on this device

SYNC_EPILOG = (
    "exit codes: 0 everything sent and received; 3 the sync stopped early (server "
    "unreachable or busy, device revoked); 4 the sync ran but the server refused some "
    "changes (listed in the summary; they stay on this device, see --retry-failed); "
    "2 a clear error (e.g. not registered)"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sync", help="sync with the server now and print a summary", epilog=SYNC_EPILOG
    )
    add_json_option(parser)
    parser.add_argument("--retry-failed", action="store_true", help="retry refused changes")
    parser.set_defaults(handler=run_sync)
    sub = parser.add_subparsers(dest="sync_command", metavar="SUBCOMMAND")
    reg = sub.add_parser("register", help="register this device with a sync server")
    reg.add_argument("--server", required=True, metavar="URL", help="e.g. https://sync.example")
    reg.add_argument("--user", required=True, help="account name on the server")
    reg.add_argument("--device-name", default=socket.gethostname(), help="shown to admins")
    reg.add_argument(
        "--other-server",
        action="store_true",
        help="register though this device was registered with another server (it starts "
        "over with this one; what it sent to the old one stays on this device only)",
    )
    add_json_option(reg)
    reg.set_defaults(handler=run_register)


def _password() -> str:
    given = os.environ.get("SAPAN_SERVER_PASSWORD")
    if given:
        return given
    if not sys.stdin.isatty():
        raise UserError("sync.server_password_needed")
    return getpass.getpass("Server password: ")


def run_register(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import sync_view

    password = _password()  # asked first: a missing one leaves no new store behind
    store = cli.open_store()
    with store:
        try:
            answer = sync_view.register(
                store,
                args.server,
                args.user,
                password,
                args.device_name,
                other_server=args.other_server,
            )
        except UserError as exc:
            if exc.code != sync_view.OTHER_SERVER:
                raise
            raise UserError(
                "sync.other_server_cli", message=exc.translated(cli.lang), server=args.server
            ) from exc
        office = store.office
    data = {
        "device_id": answer.device_id,
        "user": answer.account.username,
        "role": answer.account.role.value,
        "offices": answer.account.offices,
        "all_offices": answer.account.all_offices,
        "office": office,
    }
    said = [
        text("sync.registered", cli.lang, device=answer.device_id, server=args.server),
        text("sync.registered_office", cli.lang, office=office),
    ]
    cli.emit(data, "\n".join(said))
    return 0


def run_sync(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.services import coordination, sync_view
    from desktop.services import sync as service

    store = cli.open_store(create=False)
    with store:
        tune_gc()  # start-up is done: the sync's collections skip its objects
        # as the app syncs (and kept as its last sync), but waiting out a busy server
        summary = sync_view.run_sync(
            store, retries=service.SyncService.max_retries, refused_first=args.retry_failed
        )
        # merges a restored server refused to make again, named for the person (a wiped
        # store is not read again)
        refused = summary.merges_not_redone
        named = coordination.named_merges(store, refused) if refused else ""
    lines = [
        text(
            "sync.summary",
            cli.lang,
            # with those the server already had (an answer the link lost, a change sent
            # again after a restore): "sent it again the 3 changes" then "sent: 0" misled
            pushed=summary.pushed + summary.duplicates,
            pulled=summary.received_rows,
            conflicts=summary.new_conflicts,
            waiting=summary.waiting,
            failed=summary.failed,
        ),
    ]
    if summary.attachments_uploaded or summary.attachments_downloaded or summary.attachments_failed:
        lines.append(
            text(
                "sync.files_summary",
                cli.lang,
                sent=summary.attachments_uploaded,
                received=summary.attachments_downloaded,
                failed=summary.attachments_failed,
            )
        )
    if summary.resent:
        lines.append(text("sync.resent", cli.lang, count=summary.resent))
    if summary.merges_redone:
        lines.append(text("sync.merges_redone", cli.lang, count=summary.merges_redone))
    if summary.decisions_redone:
        lines.append(text("sync.decisions_redone", cli.lang, count=summary.decisions_redone))
    if refused:
        lines.append(text("sync.merges_not_redone", cli.lang, count=len(refused), merges=named))
    if summary.renumbered:
        lines.append(text("sync.renumbered", cli.lang, numbers=summary.renumbered_text()))
    if summary.refused:
        lines.append(text("sync.refused_heading", cli.lang, count=summary.failed))
        lines.extend(_refusal_line(refusal, cli.lang) for refusal in summary.refused)
    if summary.error and not summary.wipe:  # wiped: said below, nothing to run again
        why = sync_view.reason_text(summary.error, translator(cli.lang))
        # "run it again later" unless only a person can mend it (another server answers)
        said = "sync.stopped" if sync_view.needs_a_person(summary.error) else "sync.failed"
        lines.append(text(said, cli.lang, reason=why))
    if summary.wipe:
        # the service destroyed the key; the files go now that the store is closed
        from desktop.models.store import finish_wipe

        finish_wipe(cli.data_dir)
        lines.append(text("sync.revoked", cli.lang, count=summary.waiting + summary.failed))
    cli.emit(summary.as_dict(), "\n".join(lines))
    if not summary.ok:
        return EXIT_STOPPED
    return EXIT_REFUSED if summary.failed else 0


def _refusal_line(refusal: Any, lang: str) -> str:
    """One refused change: what it was, and the server's reason in the reader's language."""
    from desktop.services import sync_view

    translate = translator(lang)
    what = i18n.detail_text(refusal.entity, refusal.field, translate)
    why = sync_view.reason_text(refusal.error, translate, refusal.entity, refusal.field)
    return f"  - {what} {refusal.row_id[:8]}: {why}"
