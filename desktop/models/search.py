"""The person search index: every name variant in every script and every document number.

``person_search_doc`` holds one folded text per person; the FTS5 ``person_search`` index
over it uses the trigram tokenizer, so a fragment of a Burmese, Thai or Khmer name (no
spaces between words) or a part of an ID number matches. Queries shorter than three
characters cannot use trigrams and fall back to a substring scan.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from sqlalchemy import String, TextualSelect, column, select, text
from sqlalchemy.orm import Session

from desktop.domain.ids import digits_only
from desktop.domain.text import name_forms, search_fold
from desktop.domain.zawgyi import ZawgyiConversionError, looks_like_zawgyi, zawgyi_to_unicode
from desktop.models.base import listed
from desktop.models.entities import IdentityDocument, PersonName

SEPARATOR = " ¦ "


def index_text(names: Iterable[str | None], numbers: Iterable[str | None]) -> str:
    """The folded text indexed for one person."""
    parts: list[str] = []
    for name in names:
        if name:
            parts.extend(name_forms(name))
    for number in numbers:
        if number:
            parts.append(search_fold(number))
            digits = digits_only(number)
            if digits and digits != number:
                parts.append(digits)
    return SEPARATOR.join(dict.fromkeys(p for p in parts if p))


def reindex_people(session: Session, person_ids: Iterable[str]) -> None:
    """Rebuild the index entries of these people from their current names and documents."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    names: dict[str, list[str | None]] = {pid: [] for pid in ids}
    numbers: dict[str, list[str | None]] = {pid: [] for pid in ids}
    for row in session.execute(
        select(
            PersonName.person_id,
            PersonName.full_name,
            PersonName.given_name,
            PersonName.family_name,
        ).where(PersonName.person_id.in_(listed(ids)), PersonName.deleted.is_(False))
    ):
        names[row.person_id].extend((row.full_name, row.given_name, row.family_name))
    for doc in session.execute(
        select(IdentityDocument.person_id, IdentityDocument.number).where(
            IdentityDocument.person_id.in_(listed(ids)), IdentityDocument.deleted.is_(False)
        )
    ):
        numbers[doc.person_id].append(doc.number)
    params = [{"pid": pid, "body": index_text(names[pid], numbers[pid])} for pid in ids]
    session.execute(
        text(
            "INSERT INTO person_search_doc(person_id, body) VALUES (:pid, :body) "
            "ON CONFLICT(person_id) DO UPDATE SET body = excluded.body"
        ),
        params,
    )


def remove_people(session: Session, person_ids: Iterable[str]) -> None:
    for pid in set(person_ids):
        session.execute(text("DELETE FROM person_search_doc WHERE person_id = :pid"), {"pid": pid})


def search_person_ids(session: Session, query: str, limit: int = 50) -> list[tuple[str, float]]:
    """Person ids matching every term of ``query``, best first, with a rank (lower is better)."""
    found = _search_sql(query, limit, ranked=True)
    if found is None:
        return []
    sql, params = found
    return [(row[0], float(row[1])) for row in session.execute(text(sql), params)]


def matching_person_ids(query: str, limit: int) -> TextualSelect | None:
    """A ``SELECT person_id`` of up to ``limit`` people matching ``query``, in no order.

    For use as a subquery (``Case.person_id.in_(...)``): the database goes from the search
    index to the rows in one statement, with no list of ids through Python. It skips the
    BM25 ordering, which scores every match before the LIMIT. None for an empty query.
    """
    found = _search_sql(query, limit, ranked=False)
    if found is None:
        return None
    sql, params = found
    return text(sql).bindparams(**params).columns(column("person_id", String))


def _search_sql(query: str, limit: int, *, ranked: bool) -> tuple[str, dict[str, object]] | None:
    # Each term with its alternatives, any of which may match (see _alternatives).
    groups = _alternatives(query)
    if not groups:
        return None
    long_groups = [g for g in groups if all(len(t) >= 3 for t in g)]
    short_groups = [g for g in groups if any(len(t) < 3 for t in g)]
    params: dict[str, object] = {"limit": limit}
    if long_groups:
        params["match"] = " AND ".join(_match_group(g) for g in long_groups)
        sql = (
            "SELECT d.person_id"
            + (", bm25(person_search) AS rank" if ranked else "")
            + " FROM person_search JOIN person_search_doc d ON d.doc_id = person_search.rowid"
            " WHERE person_search MATCH :match"
        )
        body = "d.body"
    else:
        sql = "SELECT person_id" + (", 0.0 AS rank" if ranked else "")
        sql += " FROM person_search_doc WHERE 1=1"
        body = "body"
    for i, group in enumerate(short_groups):
        likes = []
        for j, term in enumerate(group):
            likes.append(f"{body} LIKE :s{i}_{j} ESCAPE '\\'")
            params[f"s{i}_{j}"] = "%" + like_escape(term) + "%"
        sql += " AND (" + " OR ".join(likes) + ")"
    # Without a MATCH, no ORDER BY: it would force a scan of every body; LIMIT stops at
    # the first hits.
    sql += " ORDER BY rank LIMIT :limit" if ranked and long_groups else " LIMIT :limit"
    return sql, params


def _alternatives(query: str) -> list[tuple[str, ...]]:
    """The query's folded terms, each with the forms it may match. A number is indexed
    without its dashes and dots: "0-0281-33920-50-7" finds it too. Burmese typed on a
    Zawgyi keyboard also matches its Unicode form, in which names are stored (a name
    kept in Zawgyi still matches as typed)."""
    terms = search_fold(query).split()
    zawgyi = looks_like_zawgyi(query)
    groups = []
    for term in terms:
        forms = [term]
        if zawgyi:
            with contextlib.suppress(ZawgyiConversionError):  # then only as typed
                forms.append(search_fold(zawgyi_to_unicode(term)))
        groups.append(tuple(dict.fromkeys(_number_term(f) for f in forms if f)))
    return [g for g in groups if g]


def _match_group(terms: tuple[str, ...]) -> str:
    """An FTS5 query matching any of ``terms``, each as a quoted string."""
    quoted = ['"' + t.replace('"', '""') + '"' for t in terms]
    return quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"


def _number_term(term: str) -> str:
    """A query term with a digit in it as a number is indexed (separators removed)."""
    if not any(c.isdigit() for c in term):
        return term
    return digits_only(term) or term


def like_escape(term: str) -> str:
    """``term`` with LIKE wildcards escaped (use with ``ESCAPE '\\'``)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
