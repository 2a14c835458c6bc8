"""Import agency lists of workers (CSV or XLSX) into the local store.

How a file goes in:

1. **Guards.** A file over :data:`MAX_FILE_BYTES` is refused before it is read, and an
   XLSX that unpacks to far more than it holds before it is unpacked. Of a workbook, the
   sheet a person opening it sees is read (not a hidden one before it).
2. **Decoding** (CSV). UTF-8 (with or without a BOM) is tried strictly over the whole
   file, then Thai Windows-874 (a superset of TIS-620); after a UTF-16 byte-order mark
   (Excel's "Unicode Text"), UTF-16. The encoding used is reported. Bytes that are none
   of them are refused with a clear error instead of guessed, and so is a file that is no
   text (an .xls or a workbook with a password, a PDF, a picture), saying what it is.
3. **Columns.** Headers are matched to Sapan fields through English and Thai synonyms in
   ``resources/import/columns.yaml`` (case, spaces and punctuation ignored); the header
   row is the one among the first rows that names the most fields. ``--map
   field=Header`` overrides. A file without a name column is refused.
4. **Staging.** Mapped cells go into an in-memory sqlite-utils database (personal data
   never touches the disk outside the encrypted store) and are read back in batches.
5. **Validation**, row by row: names NFC-cleaned and Zawgyi converted (the raw input is
   kept by the people service), Buddhist-Era dates converted, 13-digit IDs check-digit
   checked (an error for Thai-registry numbers, a warning for categories 0, 6, 7),
   passport/CI/work-permit formats checked, coded columns read from Thai or English words
   (an unknown sex or nationality left empty with a warning; an unknown title or marital
   status, or a title of the other sex, is an error: they are printed on SSO forms), a
   title written at the start of a name (นางสาวสมศรี ใจดี, Mrs. Aye Aye) lifted into the
   title, read conservatively by ``names.written_title`` (one that disagrees with the
   title column or another name's, or Ms, is an error on its name column), and
   every value measured as it will be stored against what the sync server accepts
   (``value.too_long``: the detail, its limit, the value's length). A row with any error
   is not imported; every problem is listed with its row number, column and coded reason.
6. **Duplicates.** A row whose document (kind + number) is already in the store, or whose
   name and birth date match a stored person, counts as *already present* and changes
   nothing; so does a repeat of an earlier row of the same file.
7. **Writing.** Each batch of rows is one transaction: a person is written with all their
   names, documents and employment or not at all, and a killed process leaves only whole,
   committed batches. Rows are checked before (steps 5 and 6), so a batch is written whole;
   an error while writing one keeps nothing of that batch.

Row numbers are those a spreadsheet shows: the header row is the row it was found on,
the first data row the next one. A header of two rows (columns grouped under a merged
cell and named in the row below) is read as one; the data starts below its second row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import decimal
import functools
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import ids, lengths, text
from desktop.domain import names as names_domain
from desktop.domain.amounts import parse_amount
from desktop.domain.dates import PartialDate, arabic_digits, not_in_future, parse_date_input
from desktop.domain.errors import UserError
from desktop.domain.i18n import Label
from desktop.domain.i18n import text as translate
from desktop.domain.resources import load_yaml, resource_path
from desktop.domain.validation import Issue, Severity, issue
from desktop.models.entities import Employment, IdentityDocument, Person, PersonName
from desktop.models.search import reindex_people
from desktop.models.store import Store
from desktop.services import employers, people
from desktop.services.exporter import spreadsheet_cell, write_refusal

MAX_FILE_BYTES = 200 * 1024 * 1024
BATCH_ROWS = 100
HEADER_SCAN_ROWS = 10
# Longest cell accepted; a longer one means the file is not a list of people.
MAX_CELL_CHARS = 100_000
# An XLSX is a ZIP of XML: what it unpacks to is checked before it is read. Sheets pack
# 5 to 20 to one; a small file that unpacks to gigabytes (a ZIP bomb, a million styled
# empty rows) would fill an old laptop's memory as it is read.
MAX_XLSX_UNPACKED_BYTES = 1024 * 1024 * 1024
MAX_XLSX_PACKING = 100  # unpacked / packed, for a part above a megabyte
ProgressCallback = Callable[[int, int], None]

NAME_FIELDS = ("name", "given_name", "name_latin", "name_thai")
DOCUMENT_FIELDS = ("id13", "passport", "ci", "work_permit", "border_pass")
_DOCUMENT_KINDS = {
    "passport": "passport",
    "ci": "ci",
    "work_permit": "work_permit",
    "border_pass": "border_pass",
}
# 13-digit numbers beginning with these digits are non-Thai registry numbers (pink cards).
_NON_THAI_FIRST_DIGITS = frozenset("067")


# --- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """One coded finding about one cell (or the whole row when ``column`` is empty)."""

    row: int
    column: str
    code: str
    severity: str  # "error" | "warning"
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        return translate(self.code, lang, **dict(self.params))


@dataclass
class ImportReport:
    """What an import did; ``problems`` are in row order."""

    source: str
    file_format: str
    encoding: str | None
    columns: dict[str, str]
    dry_run: bool = False
    header_row: int = 1
    rows_read: int = 0
    imported: int = 0
    already_present: int = 0
    rejected: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # headers of the columns left out
    other_sheets: tuple[str, ...] = ()  # a workbook's sheets shown but not read

    @property
    def errors(self) -> list[RowProblem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[RowProblem]:
        return [p for p in self.problems if p.severity == "warning"]

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.file_format,
            "encoding": self.encoding,
            "columns": self.columns,
            "ignored_columns": self.ignored,
            "other_sheets": list(self.other_sheets),
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "imported": self.imported,
            "already_present": self.already_present,
            "rejected": self.rejected,
            "problems": [
                {
                    "row": p.row,
                    "column": p.column,
                    "severity": p.severity,
                    "code": p.code,
                    "message": p.message(lang),
                }
                for p in self.problems
            ],
        }


REPORT_HEADER = ("row", "column", "severity", "code", "message")


def write_report(problems: Iterable[RowProblem], path: Path, lang: str = "en") -> None:
    """The error report as CSV (UTF-8 with BOM so spreadsheet programs show Thai and Burmese).
    A folder that is not there or cannot be written is a :class:`UserError`."""
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_HEADER)
            for p in problems:
                cells = (p.row, p.column, p.severity, p.code, p.message(lang))
                writer.writerow([spreadsheet_cell(str(cell)) for cell in cells])
    except OSError as exc:
        raise write_refusal(exc, path) from exc


def check_report_path(path: Path, source: Path) -> None:
    """Refuse a report that could not be written, or would be written over the list being
    imported, before any row goes in; nothing is changed on disk."""
    if path.exists() and source.exists() and path.samefile(source):
        raise UserError("import.report_is_source", path=str(path))
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8-sig"):
            pass
    except OSError as exc:
        raise write_refusal(exc, path) from exc
    if not existed:
        path.unlink(missing_ok=True)


def fatal_problem(exc: UserError) -> RowProblem:
    """A refused file as a one-line report (row 0: the file itself)."""
    return RowProblem(0, "", exc.code, "error", dict(exc.params))


# --- column mapping ----------------------------------------------------------------------

_HEADER_JUNK = re.compile(r"[\s._\-/\\()\[\]:#*'\"‐‑–—]+")


def normalise_header(value: str) -> str:
    """The comparable form of a header: NFC, case-folded, no spaces or punctuation."""
    return _HEADER_JUNK.sub("", unicodedata.normalize("NFC", value).casefold())


@functools.cache
def _config() -> Mapping[str, Any]:
    data = load_yaml(resource_path("import", "columns.yaml"))
    if not isinstance(data, dict):
        raise ValueError("resources/import/columns.yaml must be a mapping")
    return data


@functools.cache
def header_synonyms() -> Mapping[str, str]:
    """Normalised header -> field, from ``resources/import/columns.yaml``."""
    out: dict[str, str] = {}
    for field_name, headers in _config()["columns"].items():
        out[normalise_header(field_name)] = field_name
        for header in headers:
            out[normalise_header(str(header))] = field_name
    return out


FIELDS: tuple[str, ...] = (
    "name",
    "given_name",
    "family_name",
    "name_latin",
    "name_thai",
    "sex",
    "title",
    "marital_status",
    "birth_date",
    "nationality",
    "id13",
    "passport",
    "passport_expiry",
    "ci",
    "work_permit",
    "border_pass",
    "phone",
    "address_th",
    "employer_name",
    "employer_account",
    "employer_branch",
    "start_date",
    "wage",
    "occupation",
)


@functools.cache
def _value_map(kind: str) -> Mapping[str, str]:
    out: dict[str, str] = {}
    for code, spellings in _config()["values"][kind].items():
        out[normalise_header(str(code))] = str(code)
        for spelling in spellings:
            out[normalise_header(str(spelling))] = str(code)
    return out


def parse_map_option(value: str) -> dict[str, str]:
    """``"name=Worker,passport=PP No"`` -> ``{"name": "Worker", "passport": "PP No"}``."""
    out: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        key, sep, header = part.partition("=")
        if not sep or not key.strip() or not header.strip():
            raise UserError("error.import_bad_map", value=value)
        if key.strip() not in FIELDS:
            raise UserError("import.unknown_field", field=key.strip(), known=", ".join(FIELDS))
        out[key.strip()] = header.strip()
    if not out:
        raise UserError("error.import_bad_map", value=value)
    return out


# Where a header written in two languages is cut: "Passport No./เลขหนังสือเดินทาง",
# "วันเกิด (Date of birth)", a line break in the cell.
_HEADER_HALVES = re.compile(r"[/\n()|]")


def header_field(header: str) -> str | None:
    """The field a header names: the whole header through the synonyms, else the first
    of its halves (a header in two languages) that names one; None when none does."""
    synonyms = header_synonyms()
    found = synonyms.get(normalise_header(header))
    if found is None:
        halves = (synonyms.get(normalise_header(h)) for h in _HEADER_HALVES.split(header))
        found = next((f for f in halves if f is not None), None)
    return found


def map_columns(
    headers: Sequence[str], overrides: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Field -> column index for these headers; ``overrides`` (field -> header) win.

    The first column wins when two headers name the same field.
    """
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        field_name = header_field(header)
        if field_name is not None and field_name not in mapping:
            mapping[field_name] = index
    for field_name, header in (overrides or {}).items():
        wanted = normalise_header(header)
        found = [i for i, h in enumerate(headers) if normalise_header(h) == wanted]
        if not found:
            raise UserError("import.map_header_missing", header=header, field=field_name)
        for other, index in list(mapping.items()):
            if index == found[0]:
                del mapping[other]
        mapping[field_name] = found[0]
    return mapping


# --- reading files -----------------------------------------------------------------------


@dataclass
class Table:
    """A file opened for reading: its format, encoding and an iterator of cell rows."""

    file_format: str
    encoding: str | None
    rows: Iterator[list[str]]
    # a workbook's other sheets a person sees, which are not read: said in the report
    other_sheets: tuple[str, ...] = ()


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` or ``cp874`` (``utf-16`` after its byte-order mark: Excel's "Unicode
    Text"), decided by strict decoding of the whole file in chunks."""
    with path.open("rb") as handle:
        start = handle.read(3)
    utf16 = start.startswith(_UTF16_BOMS)
    for candidate in ("utf-16",) if utf16 else ("utf-8-sig", "cp874"):
        decoder = codecs.getincrementaldecoder(candidate)("strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            if candidate == "utf-8-sig" and start == codecs.BOM_UTF8:
                break  # a BOM promises UTF-8: do not re-read broken UTF-8 as Thai
            continue
        return candidate
    raise UserError(
        "error.import_unreadable", path=str(path), reason=Label("import.reason_encoding")
    )


def encoding_label(codec: str, path: Path) -> str:
    """How the report names an encoding: ``UTF-8``, ``UTF-8 (BOM)``, ``UTF-16`` or
    ``Windows-874``."""
    if codec == "cp874":
        return "Windows-874"
    if codec == "utf-16":
        return "UTF-16"
    with path.open("rb") as handle:
        return "UTF-8 (BOM)" if handle.read(3) == codecs.BOM_UTF8 else "UTF-8"


def open_table(path: Path) -> Table:
    """Open a CSV or XLSX file; raises :class:`UserError` for a file that is neither."""
    if not path.is_file():
        raise UserError("import.file_missing", path=str(path))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UserError("error.import_too_large", path=str(path), max_mb=MAX_FILE_BYTES >> 20)
    try:
        if zipfile.is_zipfile(path):
            return _open_xlsx(path)
        _refuse_not_text(path)
        codec = detect_encoding(path)
        return Table("csv", encoding_label(codec, path), _csv_rows(path, codec))
    except OSError as exc:  # locked by another program, a stick pulled out
        raise _unreadable(path, exc) from exc


def _unreadable(path: Path, exc: OSError) -> UserError:
    return UserError("error.import_unreadable", path=str(path), reason=exc.strerror or str(exc))


# How files that are no list of people begin: said for what they are.
_OLE = bytes.fromhex("d0cf11e0a1b11ae1")  # an .xls, or any Office file saved with a password
_NOT_TEXT = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")


def _refuse_not_text(path: Path) -> None:
    """Refuse a file that is not text before it is decoded: an old or password-protected
    Excel workbook, a PDF or a picture (a NUL byte outside UTF-16 is no CSV)."""
    with path.open("rb") as handle:
        start = handle.read(64 * 1024)
    if start.startswith(_OLE):
        reason = "import.reason_ole"
    elif start.startswith(_NOT_TEXT) or (b"\x00" in start and not start.startswith(_UTF16_BOMS)):
        reason = "import.reason_not_text"
    else:
        return
    raise UserError("error.import_unreadable", path=str(path), reason=Label(reason))


def _csv_rows(path: Path, codec: str) -> Iterator[list[str]]:
    csv.field_size_limit(MAX_CELL_CHARS)
    with path.open("r", encoding=codec, newline="") as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        delimiter = _sniff_delimiter(sample)
        # strict: a quote never closed is an error, not the rest of the file in one cell
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
        starts = 1  # the line the record being read begins on, as a spreadsheet numbers it
        try:
            for record in reader:
                yield record
                starts = reader.line_num + 1
        except csv.Error as exc:
            raise UserError(
                "error.import_unreadable",
                path=str(path),
                reason=Label("import.reason_malformed", (("row", starts),)),
            ) from exc
        except OSError as exc:  # a stick pulled out while it is read
            raise _unreadable(path, exc) from exc


def _sniff_delimiter(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _open_xlsx(path: Path) -> Table:
    import openpyxl

    _refuse_packed_tight(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a zip that is not a workbook
        raise UserError(
            "error.import_unreadable", path=str(path), reason=type(exc).__name__
        ) from exc
    sheet = _shown_sheet(book)

    def rows() -> Iterator[list[str]]:
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(v) for v in values]
        except Exception as exc:  # a part cut short: the XML reader's, zipfile's, zlib's errors
            raise UserError(
                "error.import_unreadable",
                path=str(path),
                reason=Label("import.reason_damaged"),
            ) from exc
        finally:
            book.close()

    others = tuple(
        other.title
        for other in book.worksheets
        if other is not sheet and other.sheet_state == "visible"
    )
    return Table("xlsx", None, rows(), others)


def _refuse_packed_tight(path: Path) -> None:
    """Refuse an XLSX whose parts unpack to more than :data:`MAX_XLSX_UNPACKED_BYTES` or
    one packed tighter than spreadsheets pack. The sizes a ZIP states are the most that
    is read (Python's zipfile stops there and then checks the CRC), so they can be
    trusted."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError(
            "error.import_unreadable", path=str(path), reason=type(exc).__name__
        ) from exc
    tight = any(
        part.file_size > 1 << 20 and part.file_size > MAX_XLSX_PACKING * part.compress_size
        for part in parts
    )
    if tight or sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED_BYTES:
        raise UserError(
            "error.import_unreadable",
            path=str(path),
            reason=Label("import.reason_packed"),
        )


def _shown_sheet(book: Any) -> Any:
    """The sheet a person opening the workbook sees: the selected one unless it is hidden,
    else the first one shown (an old list or a lookup table is often hidden before it)."""
    shown = [sheet for sheet in book.worksheets if sheet.sheet_state == "visible"]
    if book.active in shown:
        return book.active
    return shown[0] if shown else book.worksheets[0]


def _cell_text(value: object) -> str:
    """Spreadsheet cells as text: dates ISO, integral numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- validating rows ---------------------------------------------------------------------

# What a spreadsheet shows in a cell whose formula failed (a lookup that found nothing).
FORMULA_ERRORS = frozenset(
    ("#N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA")
)


@dataclass(frozen=True)
class EmployerRef:
    name: str | None
    account: str | None
    branch: str


@dataclass(frozen=True)
class RowPlan:
    """A validated row, ready to write."""

    row: int
    person: people.PersonInput
    employer: EmployerRef | None
    start_date: dt.date | None
    wage: decimal.Decimal | None
    occupation: str | None
    document_keys: tuple[tuple[str, str], ...]
    name_keys: tuple[tuple[str, str], ...]


class _RowCheck:
    """Collects the problems of one row."""

    def __init__(self, row: int, headers: Mapping[str, str]) -> None:
        self.row = row
        self.headers = headers
        self.problems: list[RowProblem] = []

    def add(self, field_name: str, found: Iterable[Issue]) -> None:
        for item in found:
            self.problems.append(
                RowProblem(
                    self.row,
                    self.headers.get(field_name, field_name),
                    item.code,
                    item.severity.value,
                    dict(item.params),
                )
            )

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


# Day 0 of a spreadsheet's day numbers (Excel's, and LibreOffice's by default); five-digit
# numbers from 10000 are 1927-05-18 to 2099-12-31.
SPREADSHEET_EPOCH = dt.date(1899, 12, 30)
_DAY_NUMBERS = range(10_000, 73_051)


def parse_import_date(value: str, field_name: str) -> tuple[PartialDate | None, list[Issue]]:
    """A date cell: ``YYYY``, ``YYYY-MM-DD``, ``DD/MM/YYYY``; years from 2400 are Buddhist Era.

    Five digits are a spreadsheet's day number (a date column formatted as a number shows
    34773 for 1995-03-15): read as that day, with a warning naming it."""
    from desktop.domain.dates import be_to_ce_year

    cleaned = arabic_digits(value.strip())
    if re.fullmatch(r"\d{5}", cleaned) and int(cleaned) in _DAY_NUMBERS:
        numbered = SPREADSHEET_EPOCH + dt.timedelta(days=int(cleaned))
        said = numbered.isoformat()
        read = issue("import.date_serial", field_name, Severity.WARNING, value=cleaned, date=said)
        return PartialDate.from_date(numbered), [read]
    if re.fullmatch(r"\d{4}", cleaned):
        year = int(cleaned)
        if year >= 2400:
            year = be_to_ce_year(year)
        if not 1900 <= year <= 2100:
            return None, [
                issue("date.year_out_of_range", field_name, min=1900, max=2100, year=year)
            ]
        return PartialDate(year), []
    years = [int(y) for y in re.findall(r"\d{4}", cleaned)]
    be = bool(years) and years[0] >= 2400
    day, found = parse_date_input(cleaned, "be" if be else "ce", field=field_name)
    if day is None or any(f.is_error for f in found):
        return None, found
    return PartialDate.from_date(day), found


def _clean_id13(raw: str, check: _RowCheck) -> str:
    number = ids.digits_only(raw)
    # Spreadsheets drop leading zeros of pink-card numbers stored as numbers.
    if number.isascii() and number.isdigit() and 10 <= len(number) < ids.THAI_ID_LENGTH:
        number = number.zfill(ids.THAI_ID_LENGTH)
        check.add("id13", [issue("import.leading_zeros_restored", "id13", Severity.WARNING)])
    return number


def validate_row(
    row: int, cells: Mapping[str, str], headers: Mapping[str, str], today: dt.date
) -> tuple[RowPlan | None, list[RowProblem]]:
    """Turn one staged row into a plan, or into the problems that keep it out."""
    check = _RowCheck(row, headers)
    get = {k: (v or "").strip() for k, v in cells.items()}
    for field_name, value in get.items():
        if value in FORMULA_ERRORS:  # a formula that failed: no value, and the row kept out
            check.add(field_name, [issue("import.cell_error", field_name, value=value)])
            get[field_name] = ""

    names: list[people.NameInput] = []
    name_columns: list[str] = []  # the column of each name
    name_keys: list[tuple[str, str]] = []
    native = get.get("name", "")
    given = get.get("given_name", "")
    family = get.get("family_name", "")
    if native and family and not given:
        given, native = native, f"{native} {family}"
    elif given and not native:
        native = f"{given} {family}".strip()
    lifted: list[tuple[str, str]] = []  # (name column, title word written in it)
    for field_name, kind, value in (
        ("name", "native", native),
        ("name_latin", "passport", get.get("name_latin", "")),
        ("name_thai", "thai", get.get("name_thai", "")),
    ):
        if not text.clean(value):
            continue
        written = names_domain.written_title(value)
        if written is not None:
            lifted.append((field_name, written[0]))
            if not text.clean(value).startswith((f"{written[0]} ", f"{written[0]}.")):
                # written straight before the given name, as Thai writes it: a given name
                # that itself begins so (นางนวล) would read the same, so the clerk is told
                check.add(
                    field_name,
                    [
                        issue(
                            "import.name_title_read",
                            field_name,
                            Severity.WARNING,
                            title=written[0],
                            name=written[1],
                        )
                    ],
                )
            if kind == "native" and given.startswith(written[0]):  # written in it too
                given = given.removeprefix(written[0]).lstrip(". ")
            value = written[1]
        result, found = text.check_encoding(text.clean(value), field_name)
        check.add(field_name, found)
        names.append(
            people.NameInput(
                full_name=value,
                kind=kind,
                given_name=given or None if kind == "native" else None,
                family_name=family or None if kind == "native" else None,
                convert_zawgyi=result.was_zawgyi,
            )
        )
        name_columns.append(field_name)
        name_keys.append((text.search_fold(result.text), ""))
    if not names:
        check.add("name", [issue("error.name_required", "name")])

    birth: str | None = None
    if get.get("birth_date"):
        parsed, found = parse_import_date(get["birth_date"], "birth_date")
        if parsed is not None and parsed.precision.value == "day":
            found = [*found, *not_in_future(parsed.earliest(), today, "birth_date")]
        check.add("birth_date", found)
        birth = parsed.iso() if parsed is not None else None

    sex = _coded(get.get("sex", ""), "sex", check)
    nationality = _coded(get.get("nationality", ""), "nationality", check)
    # a title or marital status is printed on SSO forms: one not understood keeps the row out
    title = _coded(get.get("title", ""), "title", check, Severity.ERROR)
    title = _lifted_title(lifted, get.get("title", ""), title, check)
    marital = _coded(get.get("marital_status", ""), "marital_status", check, Severity.ERROR)
    # a title of the other sex is said where it was written: the title column, else the name
    said_in = lifted[0][0] if lifted and not get.get("title") else "title"
    check.add(said_in, people.title_issues(sex, title))

    documents: list[people.DocumentInput] = []
    document_columns: list[str] = []  # the column of each document
    for field_name in DOCUMENT_FIELDS:
        raw = get.get(field_name, "")
        if not raw:
            continue
        if field_name == "id13":
            number = _clean_id13(raw, check)
            first = number[:1]
            kind = "pink_card" if first in _NON_THAI_FIRST_DIGITS else "thai_id"
            check.add(field_name, ids.validate_thai_id(number, field_name))
        else:
            kind = _DOCUMENT_KINDS[field_name]
            number = ids.normalise_document_number(raw)
            check.add(field_name, ids.validate_document_number(kind, number, field_name))
        expires: dt.date | None = None
        if field_name == "passport" and get.get("passport_expiry"):
            parsed_exp, found = parse_import_date(get["passport_expiry"], "passport_expiry")
            check.add("passport_expiry", found)
            expires = parsed_exp.as_date() if parsed_exp else None
        issuing = nationality if kind in ("passport", "ci") else None
        documents.append(people.DocumentInput(kind, number, issuing, expires_on=expires))
        document_columns.append(field_name)

    employer: EmployerRef | None = None
    account = ids.digits_only(get.get("employer_account", ""))
    branch = ids.digits_only(get.get("employer_branch", "")) or ids.SSO_HEAD_OFFICE_BRANCH
    if account:
        check.add("employer_account", ids.validate_sso_employer_account(account))
        if branch.isdigit() and len(branch) < ids.SSO_BRANCH_LENGTH:
            branch = branch.zfill(ids.SSO_BRANCH_LENGTH)
        check.add("employer_branch", ids.validate_sso_branch(branch))
    if account or get.get("employer_name"):
        employer = EmployerRef(
            text.clean(get.get("employer_name", "")) or None, account or None, branch
        )

    start: dt.date | None = None
    if get.get("start_date"):
        parsed_start, found = parse_import_date(get["start_date"], "start_date")
        check.add("start_date", found)
        start = parsed_start.as_date() if parsed_start else None
    wage = _wage(get.get("wage", ""), check)

    person = people.PersonInput(
        names=names,
        sex=sex,
        title=title,
        marital_status=marital,
        birth_date=birth,
        nationality=nationality,
        phone=get.get("phone") or None,
        address_th=text.clean(get["address_th"]) if get.get("address_th") else None,
        documents=documents,
    )
    occupation = text.clean(get["occupation"]) if get.get("occupation") else None
    # every value as it will be stored, against what the sync server accepts
    for overlong in people.length_issues(person):
        check.add(_column_of(overlong.field, name_columns, document_columns), [overlong])
    if employer is not None:
        name = employer.name or account
        check.add("employer_name", lengths.length_issues("employer", {"name": name}))
    check.add("occupation", lengths.length_issues("employment", {"occupation": occupation}))
    if check.has_errors:
        return None, check.problems
    if not documents and not birth:
        # Nothing but a name: the row goes in, and the caseworker hears that nothing tells
        # this worker apart from another of the same name (common in Burmese), so that a
        # second import of the list would add them again rather than guess they are one.
        check.add("", [issue("import.name_only", severity=Severity.WARNING)])
    plan = RowPlan(
        row=row,
        person=person,
        employer=employer,
        start_date=start,
        wage=wage,
        occupation=occupation,
        document_keys=tuple((d.kind, d.number) for d in documents),
        name_keys=tuple((n, birth) for n, _ in name_keys) if birth else (),
    )
    return plan, check.problems


def _lifted_title(
    lifted: Sequence[tuple[str, str]], column: str, title: str | None, check: _RowCheck
) -> str | None:
    """The person's title, once the title words written in their names (``lifted``: name
    column, word) are read: the title column's when it has one, else the word's. A word
    Sapan records no title for (Ms) is refused as the title column refuses it, and a word
    that disagrees with the title column, or with another name's, is an error on its
    name column: nothing is chosen silently."""
    agreed = title
    for field_name, word in lifted:
        code = coded("title", word)
        if code is None:
            check.add(field_name, [issue("import.name_title_unknown", field_name, value=word)])
        elif column and title is None:
            continue  # the title column is refused already
        elif agreed is not None and code != agreed:
            said = column or next(w for _, w in lifted if coded("title", w) == agreed)
            check.add(
                field_name,
                [issue("import.name_title_disagrees", field_name, written=word, title=said)],
            )
        else:
            agreed = code
    return agreed


def _column_of(where: str, names: Sequence[str], documents: Sequence[str]) -> str:
    """The import field an issue of :func:`people.length_issues` came from: ``names.1.
    full_name`` from the second name's column, ``documents.0.number`` from the first
    document's, ``phone`` from ``phone``."""
    group, _, rest = where.partition(".")
    index, _, name = rest.partition(".")
    if group == "names":
        return name if name in ("given_name", "family_name") else names[int(index)]
    if group == "documents":
        return documents[int(index)]
    return where


def coded(kind: str, value: str) -> str | None:
    """The stored code a written ``value`` of ``kind`` (``sex``, ``nationality``, ``title``,
    ``marital_status``) stands for, from ``resources/import/columns.yaml`` (any case, no
    punctuation: "Myanmar", "พม่า" and "MMR" are ``MMR``); None when it names none."""
    return _value_map(kind).get(normalise_header(value))


def _coded(
    value: str, kind: str, check: _RowCheck, severity: Severity = Severity.WARNING
) -> str | None:
    if not value:
        return None
    code = coded(kind, value)
    if code is None:
        check.add(kind, [issue(f"import.unknown_{kind}", kind, severity, value=value)])
    return code


def _wage(value: str, check: _RowCheck) -> decimal.Decimal | None:
    if not value:
        return None
    amount = parse_amount(value)
    if amount is None:
        check.add("wage", [issue("import.wage_invalid", "wage", value=value)])
    return amount


# --- the import --------------------------------------------------------------------------


def find_header(
    rows: Iterator[list[str]], overrides: Mapping[str, str]
) -> tuple[int, list[str], list[list[str]]]:
    """The best header row among the first rows of the file.

    Returns its row number (1-based), its cells and the rows read after it (data rows).
    """
    seen: list[list[str]] = []
    best_row, best_score = 0, -1
    wanted = {normalise_header(h) for h in overrides.values()}
    for record in rows:
        seen.append(record)
        score = len(map_columns(record, None)) if any(c.strip() for c in record) else -1
        score += sum(1 for c in record if normalise_header(c) in wanted)
        if score > best_score:
            best_row, best_score = len(seen) - 1, score
        if len(seen) >= HEADER_SCAN_ROWS:
            break
    if not seen:
        return 0, [], []
    header, after = seen[best_row], seen[best_row + 1 :]
    combined = _with_sub_header(header, after[0]) if after else None
    if combined is not None:  # a header of two rows: the data starts below the second
        return best_row + 2, combined, after[1:]
    return best_row + 1, header, after


def _with_sub_header(header: list[str], below: list[str]) -> list[str] | None:
    """The header with the names ``below`` gives the columns grouped under a merged cell
    ("เอกสาร" over "เลขบัตรชมพู" and "หนังสือเดินทาง"); None when ``below`` is no such row:
    when it names no field in a column the header leaves blank, or holds a value under a
    column the header names (a first row of data does; a header's second row is blank
    there, the header's cell merged down over it). A name below wins over the group's
    name above it."""
    named = {i: cell for i, cell in enumerate(below) if header_field(cell) is not None}
    if not any(i >= len(header) or not header[i].strip() for i in named):
        return None
    if any(
        header_field(cell) is not None and i < len(below) and below[i].strip()
        for i, cell in enumerate(header)
        if i not in named
    ):
        return None
    width = max(len(header), len(below))
    return [named.get(i) or (header[i] if i < len(header) else "") for i in range(width)]


def import_file(
    store: Store | None,
    path: Path,
    *,
    overrides: Mapping[str, str] | None = None,
    dry_run: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: ProgressCallback | None = None,
    today: dt.date | None = None,
) -> ImportReport:
    """Import ``path`` into ``store`` (or only check it when ``dry_run``).

    Raises :class:`UserError` when the file as a whole cannot be used (too large, not CSV
    or XLSX, undecodable, no name column); row problems go into the returned report.
    ``progress(rows_done, rows_committed)`` is called after every batch.
    """
    if store is None and not dry_run:
        raise ValueError("a store is needed unless dry_run")
    today = today or dt.date.today()
    table = open_table(path)
    rows = iter(table.rows)
    header_row, headers, pending = find_header(rows, overrides or {})
    mapping = map_columns(headers, overrides)
    if not any(f in mapping for f in NAME_FIELDS):
        raise UserError(
            "error.import_missing_columns", path=str(path), columns=" / ".join(NAME_FIELDS)
        )
    column_names = {f: headers[i] for f, i in mapping.items()}
    report = ImportReport(
        str(path),
        table.file_format,
        table.encoding,
        column_names,
        dry_run=dry_run,
        header_row=header_row,
        ignored=[h for i, h in enumerate(headers) if h.strip() and i not in mapping.values()],
        other_sheets=table.other_sheets,
    )
    staging = sqlite_utils.Database(memory=True)
    try:
        _stage(staging, mapping, header_row, pending, rows)
        _process(staging, store, report, column_names, batch_rows, progress, today)
    finally:
        staging.close()
    return report


def _stage(
    staging: sqlite_utils.Database,
    mapping: Mapping[str, int],
    header_row: int,
    pending: list[list[str]],
    rows: Iterator[list[str]],
) -> None:
    """Copy the mapped cells of every non-blank row into the in-memory staging table."""
    table = staging.table("staged")
    table.create({"row_no": int, **dict.fromkeys(mapping, str)}, pk="row_no")

    def records() -> Iterator[dict[str, Any]]:
        row_no = header_row
        for source in (iter(pending), rows):
            for record in source:
                row_no += 1
                if not any(c.strip() for c in record):
                    continue
                yield {
                    "row_no": row_no,
                    **{f: (record[i] if i < len(record) else "") for f, i in mapping.items()},
                }

    table.insert_all(records(), batch_size=1000)


def _process(
    staging: sqlite_utils.Database,
    store: Store | None,
    report: ImportReport,
    headers: Mapping[str, str],
    batch_rows: int,
    progress: ProgressCallback | None,
    today: dt.date,
) -> None:
    seen_documents: dict[tuple[str, str], int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    writer = _Writer(store, dry_run=report.dry_run) if store is not None else None
    batch: list[RowPlan] = []
    for record in staging.query("SELECT * FROM staged ORDER BY row_no"):
        row_no = int(record.pop("row_no"))
        report.rows_read += 1
        plan, found = validate_row(row_no, record, headers, today)
        report.problems.extend(found)
        if plan is None:
            report.rejected += 1
            continue
        earlier = _first_match(plan, seen_documents, seen_names)
        if earlier is not None:
            report.already_present += 1
            report.problems.append(
                RowProblem(
                    row_no, "", "import.duplicate_in_file", "warning", {"first_row": earlier}
                )
            )
            continue
        for key in plan.document_keys:
            seen_documents[key] = row_no
        for key in plan.name_keys:
            seen_names[key] = row_no
        batch.append(plan)
        if len(batch) >= batch_rows:
            _flush(writer, batch, report)
            batch = []
            if progress is not None:
                progress(report.rows_read, report.imported)
    if batch:
        _flush(writer, batch, report)
    report.problems.sort(key=lambda p: p.row)
    if progress is not None:
        progress(report.rows_read, report.imported)


def _first_match(
    plan: RowPlan,
    documents: Mapping[tuple[str, str], int],
    names: Mapping[tuple[str, str], int],
) -> int | None:
    for key in plan.document_keys:
        if key in documents:
            return documents[key]
    for key in plan.name_keys:
        if key in names:
            return names[key]
    return None


def _flush(writer: _Writer | None, batch: list[RowPlan], report: ImportReport) -> None:
    if writer is None:  # a dry run without a store: every valid row would go in
        report.imported += len(batch)
        return
    writer.write(batch, report)


class _Writer:
    """Writes batches of validated rows, one transaction per batch."""

    def __init__(self, store: Store, *, dry_run: bool) -> None:
        self.store = store
        self.dry_run = dry_run
        self.employers: dict[tuple[str | None, str | None, str], str] = {}

    def write(self, batch: Sequence[RowPlan], report: ImportReport) -> None:
        """Write a batch in one transaction (nothing of it is kept if any row fails)."""
        context = self.store.read() if self.dry_run else self.store.session()
        with context as session:
            present = self._present(session, batch)
            fresh = [plan for plan in batch if plan.row not in present]
            written: list[str] = []
            if not self.dry_run:
                for plan in fresh:
                    person = people.add_person(session, plan.person, self.store.office)
                    self._employment(session, person, plan)
                    written.append(person.id)
                reindex_people(session, written)
        # Counted only once the transaction has committed.
        for plan in batch:
            if plan.row in present:
                report.already_present += 1
                report.problems.append(
                    RowProblem(
                        plan.row,
                        "",
                        "import.already_present",
                        "warning",
                        {"by": present[plan.row], "how": Label(f"import.by.{present[plan.row]}")},
                    )
                )
        report.imported += len(fresh)
        report.person_ids.extend(written)

    def _present(self, session: Session, batch: Sequence[RowPlan]) -> dict[int, str]:
        """Rows of this batch whose person is already in the store: row -> how matched."""
        out: dict[int, str] = {}
        numbers = sorted({n for plan in batch for _, n in plan.document_keys})
        stored: set[tuple[str, str]] = set()
        for chunk in _chunks(numbers, 500):
            stored.update(
                (k or "", n or "")
                for k, n in session.execute(
                    select(IdentityDocument.kind, IdentityDocument.number).where(
                        IdentityDocument.number.in_(chunk), IdentityDocument.deleted.is_(False)
                    )
                )
            )
        births = sorted({b for plan in batch for _, b in plan.name_keys})
        stored_names: set[tuple[str, str]] = set()
        for chunk in _chunks(births, 500):
            for full_name, birth in session.execute(
                select(PersonName.full_name, Person.birth_date)
                .join(Person, Person.id == PersonName.person_id)
                .where(
                    Person.birth_date.in_(chunk),
                    Person.deleted.is_(False),
                    PersonName.deleted.is_(False),
                )
            ):
                stored_names.add((text.search_fold(full_name or ""), birth or ""))
        for plan in batch:
            if any(key in stored for key in plan.document_keys):
                out[plan.row] = "document"
            elif any(key in stored_names for key in plan.name_keys):
                out[plan.row] = "name_birth_date"
        return out

    def _employment(self, session: Session, person: Person, plan: RowPlan) -> None:
        if plan.employer is None and plan.start_date is None and plan.wage is None:
            return
        employer_id = self._employer(session, person.office, plan.employer)
        session.add(
            Employment(
                office=person.office,
                person_id=person.id,
                employer_id=employer_id,
                start_date=plan.start_date,
                monthly_wage=plan.wage,
                occupation=plan.occupation,
                section=33,
            )
        )
        session.flush()

    def _employer(self, session: Session, office: str, ref: EmployerRef | None) -> str | None:
        if ref is None:
            return None
        key = (ref.account, ref.name if not ref.account else None, ref.branch)
        if key in self.employers:
            return self.employers[key]
        # The store's employer of that account (or name), as the enrollment wizard finds it.
        found = employers.employer_for(
            session,
            office,
            {
                "name": ref.name or ref.account or "",
                "sso_account": ref.account,
                "sso_branch": ref.branch if ref.account else None,
            },
        )
        # A failed batch aborts the whole import, so a cached id is always committed.
        self.employers[key] = found
        return found


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def report_json(report: ImportReport, lang: str = "en") -> str:
    return json.dumps(report.to_dict(lang), ensure_ascii=False, indent=2)


__all__ = [
    "BATCH_ROWS",
    "FIELDS",
    "MAX_FILE_BYTES",
    "ImportReport",
    "RowProblem",
    "check_report_path",
    "detect_encoding",
    "fatal_problem",
    "import_file",
    "map_columns",
    "normalise_header",
    "open_table",
    "parse_import_date",
    "parse_map_option",
    "validate_row",
    "write_report",
]
