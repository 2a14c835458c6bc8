"""The catalogue's length limits, checked where this device makes its changes.

The sync server refuses a text value, or an item of a list, longer than its field's
``max_length`` (errno 105, :func:`desktop.domain.catalogue.overlong_length`). Found only
at sync, days later, that leaves a caseworker to mend a detail they typed long ago. So
the device checks the same limits, counted the same way (code points, as Python's
``len``), when a value is saved:

- services report an over-long value as the coded issue ``value.too_long`` among the
  other issues of what is saved (after their own cleaning, so a Zawgyi name converted to
  Unicode is measured as it will be stored);
- the recorder (:mod:`desktop.models.recorder`) refuses to queue one
  (:class:`desktop.domain.errors.ValueTooLong`), whatever forgot to check;
- the UI keeps a one-line editor from taking more than its field holds.

Values pulled from the server are never checked here: the server checked them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from desktop.domain import catalogue
from desktop.domain.i18n import Detail
from desktop.domain.validation import Issue, issue

TOO_LONG = "value.too_long"

# entity -> its fields that have a limit, with the limit: what a row is checked against
# (a flush checks every new row, a bulk load tens of thousands)
_LIMITED: Mapping[str, tuple[tuple[str, int, catalogue.FieldSpec], ...]] = MappingProxyType(
    {
        name: tuple(
            (field.name, field.max_length, field)
            for field in spec.fields.values()
            if field.max_length is not None
        )
        for name, spec in catalogue.ENTITIES.items()
    }
)


def limit(entity: str, field: str) -> int | None:
    """The most characters ``entity.field`` holds (each item, for a list); None for a field
    without a limit. ``KeyError`` for a detail the catalogue does not have."""
    return catalogue.entity(entity).field(field).max_length


def too_long(entity: str, field: str, value: object, where: str | None = None) -> Issue | None:
    """The issue ``value.too_long`` when ``value`` is longer than ``entity.field`` holds.

    The issue names the detail (:class:`~desktop.domain.i18n.Detail`), its ``limit`` and
    the value's ``length``; its field is ``where`` (the caller's name for the input, such
    as ``names.0.full_name``), else the catalogue's field.
    """
    spec = catalogue.entity(entity).field(field)
    length = catalogue.overlong_length(spec, value)
    if length is None:
        return None
    return _issue(entity, spec, length, field if where is None else where)


def length_issues(entity: str, values: Mapping[str, object], prefix: str = "") -> list[Issue]:
    """The over-long values among ``values`` (field -> value, as stored or as on the wire)
    of one row of ``entity``; each issue's field is ``prefix`` + the catalogue's field."""
    found: list[Issue] = []
    for name, most, spec in _LIMITED[entity]:
        value = values.get(name)
        if value is None or (type(value) is str and len(value) <= most):
            continue  # the common case, without a call
        length = catalogue.overlong_length(spec, value)
        if length is not None:
            found.append(_issue(entity, spec, length, prefix + name))
    return found


def _issue(entity: str, spec: catalogue.FieldSpec, length: int, where: str) -> Issue:
    return issue(
        TOO_LONG, where, detail=Detail(entity, spec.name), limit=spec.max_length, length=length
    )
