"""What a guided-steps wizard is generated from: workflows as plain frozen dataclasses.

The definitions come from the workflow engine's data (``desktop.domain.workflow``,
``resources/workflows/*.yaml``): steps with typed fields (and the person fact each one
fills in, declared in the data as ``fact:``), a document checklist, forms to print.

Field validation is here too, returning coded :class:`Issue` s for the wizard to
translate: required values, dates (with the BE-year-typed-as-CE check and "not in the
future"), ID numbers, money; and :func:`unicode_form`, the Unicode form of a free-text
value typed on a Zawgyi keyboard, which the editors offer before it is kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from desktop.domain import dates, field_validators, ids, places, text, workflow
from desktop.domain.amounts import parse_amount
from desktop.domain.i18n import has
from desktop.domain.validation import Issue, has_errors, issue


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "text"  # text | longtext | date | money | choice | province
    required: bool = False
    validator: str | None = None  # thai_id | passport | sso_account
    choices: tuple[str, ...] = ()
    past: bool = False  # a date that cannot lie in the future
    maps: str | None = None  # person fact it fills in, e.g. "document.pink_card.number"
    role: str | None = None  # "event_date": the track's event date
    when: Mapping[str, Any] = field(default_factory=dict)
    not_before: str | None = None  # a date field of the step this date may not precede

    @property
    def lives_elsewhere(self) -> bool:
        """Whether the value became a person fact (a document number, the employer) or the
        track's event date, and is corrected where that lives rather than in the step. A
        name fact (``person.name.passport``) only started the field: the value is the
        step's own."""
        return bool(self.role) or (self.maps is not None and workflow.name_kind(self.maps) is None)


@dataclass(frozen=True)
class StepSpec:
    key: str
    fields: tuple[FieldSpec, ...]
    documents: tuple[str, ...] = ()
    later: bool = False  # only after an outcome (e.g. an appeal): not part of the wizard
    # hands the track in to an authority (a claim's filing, a registration): its fields
    # (the day it was handed in, where) may wait until then, so the wizard does not ask
    # for them as required
    filing: bool = False

    def in_wizard(self) -> StepSpec:
        """This step as the wizard asks it: a filing step's fields are not required yet."""
        if not self.filing:
            return self
        return dataclasses.replace(
            self, fields=tuple(dataclasses.replace(f, required=False) for f in self.fields)
        )


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


@functools.cache
def load_specs() -> dict[str, WorkflowSpec]:
    """Every workflow a wizard can run, by key."""
    return {str(key): _from_track(str(key), track) for key, track in workflow.load().items()}


# The validators whose dates cannot lie in the future.
PAST_VALIDATORS = frozenset({"not_in_future", "birth_date"})
EVENT_DATE = workflow.EVENT_DATE_FACT  # the ``fact`` of a field that dates the track's event


def _from_track(key: str, track: workflow.TrackDef) -> WorkflowSpec:
    steps: list[StepSpec] = []
    documents: list[str] = []
    optional: list[str] = []  # gathered when there are any: not required
    # a document's condition on the track's choices, as the wizard's ``applies`` reads it
    when: dict[str, dict[str, list[str]]] = {}
    forms: list[str] = []
    for step in track.steps:
        later = step.when is not None
        fields = []
        for f in step.fields:
            kind = str(f.type)
            choices = tuple(f.choices)
            if kind == "bool":
                kind, choices = "choice", ("true", "false")
            elif kind not in ("date", "money", "choice", "province"):
                kind = "text"
            fields.append(
                FieldSpec(
                    name=f.name,
                    type=kind,
                    required=bool(f.required),
                    validator=f.validator,
                    choices=choices,
                    past=f.validator in PAST_VALIDATORS,
                    maps=f.fact if f.fact != EVENT_DATE else None,
                    role=EVENT_DATE if f.fact == EVENT_DATE else None,
                    not_before=f.not_before,
                    when={name: list(wanted) for name, wanted in f.when.items()},
                )
            )
        filing = workflow.is_filing(step)
        steps.append(StepSpec(step.key, tuple(fields), tuple(step.documents), later, filing))
        if not later:
            documents += [d for d in step.documents if d not in documents]
            optional += [d for d in step.optional_documents if d not in optional]
            for doc, condition in step.document_when.items():
                when.setdefault(doc, {k: list(v) for k, v in condition.items()})
            forms += [f for f in step.forms if f not in forms]
    return WorkflowSpec(
        key=key,
        kind=str(track.kind),
        title=f"workflow.track.{key}",
        steps=tuple(steps),
        documents=tuple(
            [DocumentSpec(d, when=when.get(d, {})) for d in documents]
            + [
                DocumentSpec(d, required=False, when=when.get(d, {}))
                for d in optional
                if d not in documents
            ]
        ),
        forms=tuple(forms),
        benefit=track.benefit,
        path=track.document_path,
    )


def label(kind: str, key: str) -> str:
    """The translated name of a step, field, document or choice; the key itself if unknown."""
    from desktop.ui.i18n import tr

    found = workflow.label_key(kind, key)
    return tr(found) if has(found) else key.replace("_", " ")


def choice_text(spec: FieldSpec, value: str) -> str:
    """A choice's or province's stored code as a person reads it, in the current language."""
    if spec.type == "province":
        from desktop.ui.i18n import current

        return places.province_name(value, current())
    return label("choice", value)


def unicode_form(spec: FieldSpec, raw: str) -> tuple[str | None, list[Issue]]:
    """A free-text field's value typed in Zawgyi: its Unicode form to offer the caseworker
    (None when the value does not look like Zawgyi, or the field is not free text), or the
    ERROR ``text.zawgyi_unconvertible`` when it cannot be converted without loss
    (:func:`desktop.domain.text.check_encoding`, as the importer checks names)."""
    if spec.type != "text" or spec.validator is not None:
        return None, []
    result, found = text.check_encoding(text.clean_lines(raw), spec.name)
    if has_errors(found):
        return None, found
    return (result.text if result.was_zawgyi else None), []


def validate_field(spec: FieldSpec, raw: str, today: dt.date) -> tuple[Any, list[Issue]]:
    """The typed value of one field (JSON-friendly) and its coded issues."""
    value = text.clean_lines(raw)
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
        amount = parse_amount(value)
        if amount is None:
            return None, [issue("ui.wizard.bad_amount", spec.name)]
        return str(amount), []
    if spec.type == "choice" and spec.choices and value not in spec.choices:
        return None, [issue("ui.wizard.not_a_choice", spec.name, value=value)]
    if spec.type == "province" and value not in places.provinces():
        return None, [issue("ui.wizard.not_a_choice", spec.name, value=value)]
    if spec.type == "choice" and spec.choices == ("true", "false"):
        return value == "true", []
    if spec.validator == "thai_id":
        return ids.digits_only(value), ids.validate_thai_id(value, spec.name)
    if spec.validator == "passport":
        return value.upper(), ids.validate_passport_number(value, spec.name)
    if spec.validator == "sso_account":
        return ids.digits_only(value), ids.validate_sso_employer_account(value, spec.name)
    if spec.validator == "sso_branch":
        return ids.digits_only(value), ids.validate_sso_branch(value, spec.name)
    # any other named validator (a work permit's or pink card's number, a bank account):
    # the one the workflow engine runs before a step is ready, so a value the wizard or
    # the step editor takes never holds the step up later
    check = field_validators.validators(today).get(spec.validator or "")
    if check is not None:
        return value, [dataclasses.replace(i, field=spec.name) for i in check(value)]
    return value, []
