"""Printing commands: ``sapan print packet|form|queue`` and the SSO e-filing exports.

    sapan print packet CASE_NUMBER [--benefit B] -o FILE.pdf   (--benefit: which of two claims)
    sapan print form FORM_CODE CASE_NUMBER -o FILE.pdf      (e.g. 2-01, สปส.2-01, kt16)
    sapan print queue [--status S] [--benefit B] [--text T] [--to-hand-in] [--combined]
        -o DIR|FILE.pdf
    sapan export sso-registrations --month YYYY-MM -o FILE
    sapan export sso-contributions --month YYYY-MM -o FILE

Export files are TIS-620 with CRLF line ends (see desktop/forms/sso_export.py); rows
with errors are skipped and listed on stderr, and the exit code is 3 (as for the other
exports) when any row was skipped. Several employers in one month give one contribution
file each, named ``FILE-<employer account>`` before the extension.

Every packet or form written is recorded in the store
(:func:`desktop.services.printing.record_printed`, ``how="cli"``): the audit trail says
so and the workflow steps waiting on those forms move on.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.common import Cli, add_json_option
from desktop.domain.errors import UserError
from desktop.domain.i18n import text

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

# Same exit code as the other exports when some rows were rejected (desktop/cli/data.py).
EXIT_ROWS_REJECTED = 3


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("print", help="print claim packets and forms to PDF")
    sub = parser.add_subparsers(dest="print_command", metavar="WHAT", required=True)

    packet = sub.add_parser("packet", help="the whole claim packet of one case")
    packet.add_argument("case", metavar="CASE_NUMBER")
    packet.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    packet.add_argument("--version", type=int, default=1, help="packet version printed on it")
    packet.add_argument(
        "--benefit",
        help="the packet is about the case's claim for this benefit (default: its main one)",
    )
    add_json_option(packet)
    packet.set_defaults(handler=run_packet)

    form = sub.add_parser("form", help="one filled form of one case")
    form.add_argument("form_code", metavar="FORM_CODE", help="e.g. 1-03, 2-01, 6-09, 1-20, kt16")
    form.add_argument("case", metavar="CASE_NUMBER")
    form.add_argument("-o", "--output", required=True, metavar="FILE.pdf")
    add_json_option(form)
    form.set_defaults(handler=run_form)

    queue = sub.add_parser("queue", help="packets for many cases (office print queue)")
    queue.add_argument("--status", help="only cases with this status")
    queue.add_argument(
        "--benefit", help="only cases with a track for this benefit, each packet about it"
    )
    queue.add_argument("--province", help="only cases in this province code")
    queue.add_argument("--text", default="", help="only cases matching this search text")
    queue.add_argument(
        "--to-hand-in",
        action="store_true",
        help="only claims to hand in: their filing step under way or ready (as the app offers)",
    )
    queue.add_argument("--combined", action="store_true", help="one PDF instead of one per case")
    queue.add_argument(
        "--double-sided",
        action="store_true",
        help="with --combined: a blank page after a packet that ends on the front of a sheet, "
        "so that printed on both sides every packet starts on a sheet of its own",
    )
    queue.add_argument("-o", "--output", required=True, metavar="DIR|FILE.pdf")
    add_json_option(queue)
    queue.set_defaults(handler=run_queue)

    _register_exports(subparsers)


def _register_exports(subparsers: SubParsers) -> None:
    try:
        from desktop.cli.data import add_export_kind
    except ImportError:  # pragma: no cover - the data area is always present
        return
    regs = add_export_kind(subparsers, "sso-registrations", "SSO 1-03 / 6-09 e-filing records")
    regs.add_argument("--month", required=True, metavar="YYYY-MM")
    regs.add_argument("-o", "--output", required=True, metavar="FILE")
    regs.set_defaults(handler=run_export_registrations)
    contrib = add_export_kind(subparsers, "sso-contributions", "SSO 1-10 contribution file")
    contrib.add_argument("--month", required=True, metavar="YYYY-MM")
    contrib.add_argument("-o", "--output", required=True, metavar="FILE")
    contrib.set_defaults(handler=run_export_contributions)


def _missing_summary(result: Any, lang: str) -> list[str]:
    return [
        f"{m.form_code}: {text(m.label, lang)}" for m in getattr(result, "missing_fields", ())
    ] + [f"{text(d, lang)} (document)" for d in getattr(result, "missing_documents", ())]


@contextlib.contextmanager
def _writing(output: str) -> Iterator[None]:
    """A PDF written to ``output``: a place that cannot be written (a USB stick pulled
    out, a full disk, a folder that is a file) is a clear error, not a traceback."""
    from desktop.services.exporter import write_refusal

    try:
        yield
    except OSError as exc:
        raise write_refusal(exc, Path(output)) from exc


def run_packet(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.forms.packet import render_packet
    from desktop.services import printing

    with cli.open_store(create=False) as store:
        data = printing.case_data(
            store, args.case, packet_version=args.version, benefit=args.benefit
        )
        with _writing(args.output):
            result = render_packet(data, args.output)
        printing.record_printed(store, str(data.case_id), data.forms, "cli")
    missing = _missing_summary(result, cli.lang)
    lines = [f"{args.output}: packet for {data.case_number}"] + [f"  missing: {m}" for m in missing]
    cli.emit(
        {"output": args.output, "case": data.case_number, "missing": missing}, "\n".join(lines)
    )
    return 0


def run_form(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.forms import render
    from desktop.services import printing

    form_id = render.resolve_form_id(args.form_code)
    with cli.open_store(create=False) as store:
        data = printing.case_data(store, args.case, forms=(form_id,))
        with _writing(args.output):
            missing = render.render_form(form_id, data, args.output)
        printing.record_printed(store, str(data.case_id), (form_id,), "cli")
    labels = [text(m.label, cli.lang) for m in missing]
    lines = [f"{args.output}: {render.load_form(form_id).code_latin} for {data.case_number}"]
    lines += [f"  missing: {label}" for label in labels]
    cli.emit({"output": args.output, "form": form_id, "missing": labels}, "\n".join(lines))
    return 0


def run_queue(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.forms import batch
    from desktop.services import printing
    from desktop.services.cases import CaseFilter

    if args.double_sided and not args.combined:
        raise UserError("printing.error.double_sided_alone")
    filters = CaseFilter(
        text=args.text,
        status=args.status,
        benefit=args.benefit,
        province_code=args.province,
        step_key=printing.FILING_STEP if args.to_hand_in else None,
    )

    def progress(done: int, total: int | None) -> None:
        cli.info(f"  {done}/{total if total is not None else '?'}")

    with cli.open_store(create=False) as store:
        cases = printing.iter_case_data(store, filters)
        output = Path(args.output)
        with _writing(args.output):
            if args.combined:
                output.parent.mkdir(parents=True, exist_ok=True)  # as the packets' folder
                result = batch.print_combined(
                    cases, output, progress=progress, double_sided=args.double_sided
                )
            else:
                result = batch.print_per_case(cases, output, progress=progress)
        printing.record_packets_printed(store, [i.case_number for i in result.items], "cli")
    items = [
        {"case": i.case_number, "path": str(i.path), "missing": len(i.missing_fields)}
        for i in result.items
    ]
    cli.emit({"printed": items}, f"{len(items)} packet(s) written to {args.output}")
    return 0


def _report(cli: Cli, result: Any, output: str) -> int:
    from desktop.forms.sso_export import issue_lines

    def translate(code: str, params: Any) -> str:
        return text(code, cli.lang, **dict(params))

    for line in issue_lines(result, translate):
        cli.info(line)
    cli.emit(
        {
            "output": output,
            "records": len(result.lines),
            "errors": len(result.errors),
            "warnings": len(result.warnings),
        },
        f"{output}: {len(result.lines)} record(s), {len(result.errors)} row(s) skipped, "
        f"{len(result.warnings)} warning(s)",
    )
    return EXIT_ROWS_REJECTED if result.errors else 0


def run_export_registrations(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.forms.sso_export import export_registrations
    from desktop.services import printing

    with cli.open_store(create=False) as store:
        records = printing.registration_records(store, args.month)
    result = export_registrations(records)
    result.write(args.output)
    return _report(cli, result, args.output)


def run_export_contributions(args: argparse.Namespace, cli: Cli) -> int:
    from desktop.forms.sso_export import export_contributions
    from desktop.services import printing

    with cli.open_store(create=False) as store:
        statements = printing.contribution_statements(store, args.month)
    code = 0
    target = Path(args.output)
    for statement in statements:
        path = target
        if len(statements) > 1:
            account = statement.employer.account or "no-account"
            path = target.with_name(f"{target.stem}-{account}{target.suffix}")
        try:
            result = export_contributions(statement)
        except UserError as exc:
            cli.error(exc)
            code = EXIT_ROWS_REJECTED
            continue
        result.write(path)
        code = max(code, _report(cli, result, str(path)))
    if not statements:
        cli.emit({"output": None, "records": 0}, f"No wages recorded for {args.month}.")
    return code
