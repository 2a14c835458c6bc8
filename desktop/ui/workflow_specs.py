"""What a guided-steps wizard is generated from: workflows as plain frozen dataclasses.

The definitions come from the workflow engine's data (``desktop.domain.workflow``,
``resources/workflows/*.yaml``) when it is present; until then from the stopgap file
``interim_workflows.yaml`` beside this module. Either way the wizard sees the same
shapes: steps with typed fields, a document checklist with conditions, forms to print.

Field validation is here too, returning coded :class:`Issue` s for the wizard to
translate: required values, dates (with the BE-year-typed-as-CE check and "not in the
future"), ID numbers, money.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from desktop.domain import dates, ids
from desktop.domain.i18n import has
from desktop.domain.validation import Issue, issue


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "text"  # text | longtext | date | money | choice
    required: bool = False
    validator: str | None = None  # thai_id | passport | sso_account
    choices: tuple[str, ...] = ()
    past: bool = False  # a date that cannot lie in the future
    maps: str | None = None  # person fact it fills in, e.g. "document.pink_card.number"
    role: str | None = None  # "event_date": the track's event date
    when: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepSpec:
    key: str
    fields: tuple[FieldSpec, ...]
    documents: tuple[str, ...] = ()
    later: bool = False  # only after an outcome (e.g. an appeal): not part of the wizard


@dataclass(frozen=True)
class DocumentSpec:
    key: str
    required: bool = True
    when: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowSpec:
    key: str
    kind: str
    title: str
    steps: tuple[StepSpec, ...]
    documents: tuple[DocumentSpec, ...] = ()
    forms: tuple[str, ...] = ()
    benefit: str | None = None
    path: str | None = None  # the identity-document path of an enrollment


def applies(when: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    """A condition like ``{path: pink_card}`` holds for the values typed so far."""
    for name, expected in when.items():
        wanted = expected if isinstance(expected, list) else [expected]
        if values.get(name) not in wanted:
            return False
    return True


def _from_mapping(key: str, raw: Mapping[str, Any]) -> WorkflowSpec:
    steps = tuple(
        StepSpec(
            str(step["key"]),
            tuple(
                FieldSpec(
                    name=str(f["name"]),
                    type=str(f.get("type", "text")),
                    required=bool(f.get("required", False)),
                    validator=f.get("validator"),
                    choices=tuple(str(c) for c in f.get("choices", ())),
                    past=bool(f.get("past", False)),
                    maps=f.get("maps"),
                    role=f.get("role"),
                    when=dict(f.get("when") or {}),
                )
                for f in step.get("fields", ())
            ),
        )
        for step in raw.get("steps", ())
    )
    documents = tuple(
        DocumentSpec(str(d["key"]), bool(d.get("required", True)), dict(d.get("when") or {}))
        for d in raw.get("documents", ())
    )
    return WorkflowSpec(
        key=key,
        kind=str(raw.get("kind", "claim")),
        title=str(raw.get("title", key)),
        steps=steps,
        documents=documents,
        forms=tuple(str(f) for f in raw.get("forms", ())),
        benefit=raw.get("benefit"),
    )


@functools.cache
def load_specs() -> dict[str, WorkflowSpec]:
    """Every workflow a wizard can run, by key."""
    engine = _engine_specs()
    if engine:
        return engine
    raw = yaml.safe_load(
        (Path(__file__).with_name("interim_workflows.yaml")).read_text(encoding="utf-8")
    )
    return {key: _from_mapping(key, value) for key, value in raw.items()}


# Workflow field names that fill in a fact about the person, or the track's event date.
FACT_FIELDS: Mapping[str, str] = {
    "pink_card_number": "document.pink_card.number",
    "passport_number": "document.passport.number",
    "employer_name": "employer.name",
    "employer_account": "employer.sso_account",
    "employment_start": "employment.start_date",
    "monthly_wage": "employment.monthly_wage",
}
EVENT_DATE_FIELDS = frozenset({"event_date", "injury_date"})
PAST_VALIDATORS = frozenset({"not_in_future", "birth_date"})


def _engine_specs() -> dict[str, WorkflowSpec]:
    """The workflow engine's track definitions, as wizard specs."""
    try:
        module = importlib.import_module("desktop.domain.workflow")
    except ModuleNotFoundError:
        return {}
    return {str(key): _from_track(str(key), track) for key, track in module.load().items()}


def _from_track(key: str, track: Any) -> WorkflowSpec:
    steps: list[StepSpec] = []
    documents: list[str] = []
    forms: list[str] = []
    for step in track.steps:
        later = step.when is not None
        fields = []
        for f in step.fields:
            kind = str(f.type)
            choices = tuple(f.choices)
            if kind == "bool":
                kind, choices = "choice", ("true", "false")
            elif kind not in ("date", "money", "choice"):
                kind = "text"
            fields.append(
                FieldSpec(
                    name=f.name,
                    type=kind,
                    required=bool(f.required),
                    validator=f.validator,
                    choices=choices,
                    past=f.validator in PAST_VALIDATORS,
                    maps=FACT_FIELDS.get(f.name),
                    role="event_date" if f.name in EVENT_DATE_FIELDS else None,
                )
            )
        steps.append(StepSpec(step.key, tuple(fields), tuple(step.documents), later))
        if not later:
            documents += [d for d in step.documents if d not in documents]
            forms += [f for f in step.forms if f not in forms]
    return WorkflowSpec(
        key=key,
        kind=str(track.kind),
        title=f"workflow.track.{key}",
        steps=tuple(steps),
        documents=tuple(DocumentSpec(d) for d in documents),
        forms=tuple(forms),
        benefit=track.benefit,
        path=track.document_path,
    )


def label_key(kind: str, key: str) -> str:
    """The catalogue key naming a step, field, document or choice (engine's keys first)."""
    engine_kind = "document" if kind == "doc" else kind
    for candidate in (f"workflow.{engine_kind}.{key}", f"ui.wf.{kind}.{key}"):
        if has(candidate):
            return candidate
    return f"ui.wf.{kind}.{key}"


def label(kind: str, key: str) -> str:
    """The translated name of a step, field, document or choice; the key itself if unknown."""
    from desktop.ui.i18n import tr

    found = label_key(kind, key)
    return tr(found) if has(found) else key.replace("_", " ")


def validate_field(spec: FieldSpec, raw: str, today: dt.date) -> tuple[Any, list[Issue]]:
    """The typed value of one field (JSON-friendly) and its coded issues."""
    value = raw.strip()
    if not value:
        if spec.required:
            return None, [issue("ui.wizard.required", spec.name)]
        return None, []
    if spec.type == "date":
        day, found = dates.parse_date_input(value, "ce", field=spec.name, today=today)
        if day is not None and spec.past:
            found = [*found, *dates.not_in_future(day, today, spec.name)]
        return (day.isoformat() if day else None), found
    if spec.type == "money":
        try:
            amount = decimal.Decimal(value.replace(",", ""))
        except decimal.InvalidOperation:
            return None, [issue("ui.wizard.bad_amount", spec.name)]
        if amount < 0:
            return None, [issue("ui.wizard.bad_amount", spec.name)]
        return str(amount), []
    if spec.type == "choice" and spec.choices and value not in spec.choices:
        return None, [issue("ui.wizard.required", spec.name)]
    if spec.type == "choice" and spec.choices == ("true", "false"):
        return value == "true", []
    if spec.validator == "thai_id":
        return ids.digits_only(value), ids.validate_thai_id(value, spec.name)
    if spec.validator == "passport":
        return value.upper(), ids.validate_passport_number(value, spec.name)
    if spec.validator == "sso_account":
        return ids.digits_only(value), ids.validate_sso_employer_account(value, spec.name)
    return value, []
