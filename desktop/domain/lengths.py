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

# entity -> its fields that have a limit: what a row is measured against (a flush
# measures every new row, a bulk load tens of thousands)
_SPECS: Mapping[str, tuple[catalogue.FieldSpec, ...]] = MappingProxyType(
    {
        name: tuple(field for field in spec.fields.values() if field.max_length is not None)
        for name, spec in catalogue.ENTITIES.items()
    }
)

Limits = tuple[tuple[str, int], ...]  # (field, most characters)


def _split(specs: tuple[catalogue.FieldSpec, ...]) -> tuple[Limits, Limits]:
    """The limits of an entity's text fields, and of its list fields (each item)."""
    texts: list[tuple[str, int]] = []
    lists: list[tuple[str, int]] = []
    for spec in specs:
        if spec.max_length is not None:
            kind = lists if spec.type is catalogue.FieldType.LIST else texts
            kind.append((spec.name, spec.max_length))
    return tuple(texts), tuple(lists)


# entity -> its text and list limits, for the flat first pass over a row
_QUICK: Mapping[str, tuple[Limits, Limits]] = MappingProxyType(
    {name: _split(specs) for name, specs in _SPECS.items()}
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
    if not _may_be_too_long(entity, values):
        return []  # the common case: one flat pass over the row
    found: list[Issue] = []
    for spec in _SPECS[entity]:
        length = catalogue.overlong_length(spec, values.get(spec.name))
        if length is not None:
            found.append(_issue(entity, spec, length, prefix + spec.name))
    return found


def _may_be_too_long(entity: str, values: Mapping[str, object]) -> bool:
    """False when no value of the row is too long; True when one may be (one is, or one is
    not text where text was expected: :func:`length_issues` then measures exactly)."""
    texts, lists = _QUICK[entity]
    get = values.get
    for name, most in texts:
        value = get(name)
        if value is not None and (type(value) is not str or len(value) > most):
            return True
    for name, most in lists:
        items = get(name)
        if items is None:
            continue
        if type(items) is not list:
            return True
        for item in items:
            if type(item) is not str or len(item) > most:
                return True
    return False


def _issue(entity: str, spec: catalogue.FieldSpec, length: int, where: str) -> Issue:
    return issue(
        TOO_LONG, where, detail=Detail(entity, spec.name), limit=spec.max_length, length=length
    )
