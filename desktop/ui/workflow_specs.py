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


def _engine_specs() -> dict[str, WorkflowSpec]:
    """The workflow engine's definitions, when that module exists (read by duck typing)."""
    try:
        module = importlib.import_module("desktop.domain.workflow")
    except ModuleNotFoundError:
        return {}
    loader = getattr(module, "load_workflows", None) or getattr(module, "load", None)
    if loader is None:
        return {}
    try:
        found = loader()
    except Exception:  # a broken engine must not take the app down: fall back
        return {}
    items = found.items() if isinstance(found, Mapping) else ((w.key, w) for w in found)
    specs: dict[str, WorkflowSpec] = {}
    for key, wf in items:
        try:
            specs[str(key)] = _from_object(str(key), wf)
        except (AttributeError, KeyError, TypeError):
            return {}
    return specs


def _from_object(key: str, wf: Any) -> WorkflowSpec:
    def attr(obj: Any, name: str, default: Any = None) -> Any:
        if isinstance(obj, Mapping):
            return obj.get(name, default)
        return getattr(obj, name, default)

    raw = {
        "kind": attr(wf, "kind", "claim"),
        "title": attr(wf, "title", key),
        "benefit": attr(wf, "benefit"),
        "forms": list(attr(wf, "forms", ()) or ()),
        "steps": [
            {
                "key": attr(s, "key"),
                "fields": [
                    {
                        "name": attr(f, "name"),
                        "type": str(attr(f, "type", "text")),
                        "required": attr(f, "required", False),
                        "validator": attr(f, "validator"),
                        "choices": list(attr(f, "choices", ()) or ()),
                        "past": attr(f, "past", False),
                        "maps": attr(f, "maps"),
                        "role": attr(f, "role"),
                        "when": attr(f, "when") or attr(f, "condition") or {},
                    }
                    for f in attr(s, "fields", ()) or ()
                ],
            }
            for s in attr(wf, "steps", ()) or ()
        ],
        "documents": [
            {"key": attr(d, "key", d), "required": attr(d, "required", True)}
            if not isinstance(d, str)
            else {"key": d}
            for d in attr(wf, "documents", ()) or ()
        ],
    }
    return _from_mapping(key, raw)


def label_key(kind: str, key: str) -> str:
    """The catalogue key naming a step, field, document or choice (engine's keys first)."""
    for candidate in (f"workflow.{kind}.{key}", f"ui.wf.{kind}.{key}"):
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
    if spec.validator == "thai_id":
        return ids.digits_only(value), ids.validate_thai_id(value, spec.name)
    if spec.validator == "passport":
        return value.upper(), ids.validate_passport_number(value, spec.name)
    if spec.validator == "sso_account":
        return ids.digits_only(value), ids.validate_sso_employer_account(value, spec.name)
    return value, []
