"""``sapan eligibility``: the eligibility calculator for trainers, QA and scripts.

``sapan eligibility --input FILE.json [--json]`` judges one claim described in JSON::

    {"as_of": "2026-03-15", "section": 33,
     "event": {"benefit": "maternity", "date": "2026-03-10", "reason": "laid_off"},
     "contributions": [{"month": "2026-01", "wage": 12000}],
     "birth_date": "1990-05-01", "employment_end": "2026-02-28"}

``sapan eligibility CASE_NUMBER`` judges every claim track of a stored case. Bad input
(unknown benefit, malformed or Buddhist Era dates, missing fields) is a UserError: a
clear message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from desktop.cli.common import Cli, add_json_option
from desktop.domain import deadlines
from desktop.domain.dates import BE_YEAR_THRESHOLD, YearMonth, be_to_ce_year
from desktop.domain.eligibility import (
    Benefit,
    Coded,
    ContributionMonth,
    Eligibility,
    Facts,
    UnemploymentReason,
    evaluate,
)
from desktop.domain.errors import UserError
from desktop.domain.i18n import text

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def register(subparsers: Any) -> None:
    """Attach ``sapan eligibility``."""
    parser = subparsers.add_parser(
        "eligibility",
        help="judge a claim: eligible or not, why, amount, filing deadline",
        description="Judge a claim from a JSON file (--input) or a stored case (CASE_NUMBER).",
    )
    parser.add_argument("case", nargs="?", metavar="CASE_NUMBER", help="a stored case")
    parser.add_argument("--input", metavar="FILE", help="claim facts as JSON (see docs/rules.md)")
    add_json_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, cli: Cli) -> int:
    """Handler: read the facts, evaluate, print."""
    if args.input:
        facts, as_of = facts_from_json(_read(args.input))
        results = [report(evaluate(facts), as_of, cli.lang)]
    elif args.case:
        results = _for_case(args.case, cli)
    else:
        raise UserError("error.eligibility_no_input")
    data: Any = results[0] if args.input else results
    cli.emit(data, "\n\n".join(_as_text(r, cli.lang) for r in results))
    return 0


def _for_case(case: str, cli: Cli) -> list[dict[str, Any]]:
    from desktop.services.eligibility import eligibility_for_case

    with cli.open_store(create=False) as store:
        found = eligibility_for_case(store, case)
    today = dt.date.today()
    return [report(result, today, cli.lang) for result in found]


def _read(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError("error.eligibility_file", path=path, detail=str(exc)) from None


def _field(data: Mapping[str, Any], name: str, where: str) -> Any:
    value = data.get(name)
    if value is None:
        raise UserError("error.eligibility_missing", field=f"{where}{name}")
    return value


def parse_date(value: Any, field: str) -> dt.date:
    """A CE ``YYYY-MM-DD`` date; a Buddhist Era year gets its own message."""
    match = _DATE.fullmatch(str(value).strip())
    if match is None:
        raise UserError("error.eligibility_bad_date", field=field, value=value)
    year, month, day = (int(g) for g in match.groups())
    if year >= BE_YEAR_THRESHOLD:
        ce = be_to_ce_year(year, month)
        raise UserError("error.eligibility_be_year", field=field, value=value, ce_year=ce)
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise UserError("error.eligibility_bad_date", field=field, value=value) from None


def parse_month(value: Any, field: str) -> YearMonth:
    """A CE ``YYYY-MM`` month; a Buddhist Era year gets its own message."""
    match = _MONTH.fullmatch(str(value).strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise UserError("error.eligibility_bad_month", field=field, value=value)
    year = int(match[1])
    if year >= BE_YEAR_THRESHOLD:
        ce = be_to_ce_year(year, int(match[2]))
        raise UserError("error.eligibility_be_year", field=field, value=value, ce_year=ce)
    return YearMonth(year, int(match[2]))


def _number(value: Any, field: str) -> Decimal:
    if isinstance(value, bool):
        raise UserError("error.eligibility_bad_number", field=field, value=value)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise UserError("error.eligibility_bad_number", field=field, value=value) from None


def facts_from_json(data: Any) -> tuple[Facts, dt.date]:
    """The engine's :class:`Facts` and the ``as_of`` day from the calculator's JSON input."""
    if not isinstance(data, Mapping):
        raise UserError("error.eligibility_missing", field="event")
    event = _field(data, "event", "")
    if not isinstance(event, Mapping):
        raise UserError("error.eligibility_missing", field="event.benefit")
    benefit_name = _field(event, "benefit", "event.")
    choices = ", ".join(b.value for b in Benefit)
    try:
        benefit = Benefit(benefit_name)
    except ValueError:
        raise UserError(
            "error.eligibility_unknown_benefit", benefit=benefit_name, choices=choices
        ) from None
    reason = None
    if event.get("reason") is not None:
        try:
            reason = UnemploymentReason(event["reason"])
        except ValueError:
            reasons = ", ".join(r.value for r in UnemploymentReason)
            raise UserError(
                "error.eligibility_unknown_reason", reason=event["reason"], choices=reasons
            ) from None
    items = _field(data, "contributions", "")
    if not isinstance(items, list):
        raise UserError("error.eligibility_missing", field="contributions")
    contributions = []
    for i, item in enumerate(items):
        where = f"contributions[{i}]."
        if not isinstance(item, Mapping):
            raise UserError("error.eligibility_missing", field=f"{where}month")
        contributions.append(
            ContributionMonth(
                parse_month(_field(item, "month", where), f"{where}month"),
                _number(_field(item, "wage", where), f"{where}wage"),
                int(_number(item.get("section", 33), f"{where}section")),
            )
        )
    optional = {
        name: parse_date(data[name], name)
        for name in ("birth_date", "employment_end")
        if data.get(name) is not None
    }
    facts = Facts(
        benefit=benefit,
        event_date=parse_date(_field(event, "date", "event."), "event.date"),
        contributions=tuple(contributions),
        section=int(_number(data.get("section", 33), "section")),
        birth_date=optional.get("birth_date"),
        employment_end=optional.get("employment_end"),
        reason=reason,
    )
    as_of = parse_date(data["as_of"], "as_of") if data.get("as_of") else dt.date.today()
    return facts, as_of


def _plain(value: Any) -> Any:
    """JSON-friendly copies: Decimal as text (exact), dates as ISO, mappings and lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | YearMonth):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _coded(item: Coded, lang: str) -> dict[str, Any]:
    params = _plain(dict(item.params))
    return {"code": item.code, "params": params, "text": text(item.code, lang, **params)}


def report(result: Eligibility, as_of: dt.date, lang: str = "en") -> dict[str, Any]:
    """The calculator's output for one result (coded values plus their translation)."""
    deadline = None
    if result.filing_deadline is not None:
        # Warn a month ahead, the longest warning any filing rule uses.
        state = deadlines.state_on(result.filing_deadline, 30, as_of)
        deadline = {
            "date": result.filing_deadline.isoformat(),
            "state": str(state),
            "action": result.filing_action,
        }
    return {
        "benefit": str(result.benefit),
        "section": result.section,
        "event_date": result.event_date.isoformat(),
        "as_of": as_of.isoformat(),
        "eligible": result.eligible,
        "status": str(result.status),
        "rule": _coded(result.rule, lang),
        "reasons": [_coded(r, lang) for r in result.reasons],
        "counted_months": [str(m) for m in result.counted_months],
        "earliest_eligible_date": _plain(result.earliest_eligible),
        "daily_wage": _plain(result.daily_wage),
        "amounts": [_coded(a, lang) for a in result.amounts],
        "filing_deadline": deadline,
        "unconfirmed": [
            {
                "setting": s,
                "text": text("rule.unconfirmed", lang, setting=text(f"rule.setting.{s}", lang)),
            }
            for s in result.unconfirmed
        ],
        "sources": list(result.sources),
    }


def _as_text(data: Mapping[str, Any], lang: str) -> str:
    lines = [
        f"{text('rule.benefit.' + data['benefit'], lang)}: "
        f"{text('rule.status.' + data['status'], lang)}",
        f"  {data['rule']['text']}",
    ]
    lines += [f"  - {r['text']}" for r in data["reasons"]]
    if data["counted_months"]:
        lines.append(f"  {', '.join(data['counted_months'])}")
    if data["earliest_eligible_date"]:
        lines.append(f"  -> {data['earliest_eligible_date']}")
    lines += [f"  {a['text']}" for a in data["amounts"]]
    if data["filing_deadline"]:
        deadline = data["filing_deadline"]
        state = text("deadline.state." + deadline["state"], lang)
        lines.append(f"  {text(deadline['action'], lang)} {deadline['date']} ({state})")
    lines += [f"  ! {u['text']}" for u in data["unconfirmed"]]
    return "\n".join(lines)
