"""Agency-list import: encodings, columns, validation, duplicates, junk, atomic batches."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import random
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from desktop.domain import ids
from desktop.domain.errors import UserError
from desktop.models.entities import Employer, Employment, IdentityDocument, Person, PersonName
from desktop.models.store import Store
from desktop.services import importer, people, ui_wizards

os.environ.setdefault("SAPAN_KDF_N", "1024")
TODAY = dt.date(2026, 3, 15)
HEADER = "Name,Passport No,Date of birth,Nationality,Sex\n"


def _valid_pink(seed: int) -> str:
    first12 = f"00{seed:010d}"
    return first12 + str(ids.thai_id_check_digit(first12))


def _count(store: Store, cls: type) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(cls)) or 0)


def _refused(store: Store, path: Path) -> str:
    """Import ``path``, which must be refused whole as unreadable with nothing written;
    the refusal in English."""
    with pytest.raises(UserError) as caught:
        _run(store, path)
    assert caught.value.code == "error.import_unreadable"
    assert _count(store, Person) == 0
    return caught.value.translated("en")


def _write(tmp_path: Path, body: str, encoding: str = "utf-8", name: str = "list.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode(encoding))
    return path


def _run(store: Store, path: Path, **kw: object) -> importer.ImportReport:
    return importer.import_file(store, path, today=TODAY, **kw)  # type: ignore[arg-type]


def test_utf8_rows_go_in_with_names_and_documents(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "Aung Kyaw,MA123456,1990-05-17,Myanmar,M\n")
    report = _run(store, path)
    assert (report.imported, report.rejected, report.encoding) == (1, 0, "UTF-8")
    with store.read() as session:
        person = session.scalars(select(Person)).one()
        doc = session.scalars(select(IdentityDocument)).one()
    assert (person.birth_date, person.nationality, person.sex) == ("1990-05-17", "MMR", "M")
    assert (doc.kind, doc.number, doc.person_id) == ("passport", "MA123456", person.id)


def test_bom_and_windows_874_are_detected_and_reported(store: Store, tmp_path: Path) -> None:
    thai = "ชื่อ,นามสกุล,หนังสือเดินทาง\nสมชาย,ใจดี,AB123456\n"
    bom = _write(tmp_path, "\ufeff" + thai, name="bom.csv")
    cp874 = _write(tmp_path, thai.replace("AB123456", "AB654321"), "cp874", "thai.csv")
    assert _run(store, bom).encoding == "UTF-8 (BOM)"
    report = _run(store, cp874)
    assert (report.encoding, report.imported) == ("Windows-874", 1)
    with store.read() as session:
        full = set(session.scalars(select(PersonName.full_name)))
    assert full == {"สมชาย ใจดี"}  # same name twice: different passports, two people


def test_excel_unicode_text_in_utf_16_goes_in(store: Store, tmp_path: Path) -> None:
    """Excel before 2016 keeps Thai and Burmese only when saved as "Unicode Text": UTF-16
    with a byte-order mark, tab-separated."""
    body = HEADER.replace(",", "\t") + "မောင်မောင်\tMA123456\t15/03/2538\tพม่า\tชาย\n"
    for encoding, label in (("utf-16", "UTF-16"), ("utf-16-be", "UTF-16")):
        data = body.encode(encoding)
        if encoding == "utf-16-be":
            data = codecs.BOM_UTF16_BE + data
        path = tmp_path / f"list-{encoding}.txt"
        path.write_bytes(data)
        report = _run(store, path)
        assert (report.encoding, report.rejected) == (label, 0)
    assert _names(store) == [("မောင်မောင်",)]
    with store.read() as session:
        person = session.scalars(select(Person)).one()
    assert (person.birth_date, person.nationality, person.sex) == ("1995-03-15", "MMR", "M")


@pytest.mark.parametrize(
    ("start", "said"),
    [
        (bytes.fromhex("d0cf11e0a1b11ae1"), "old Excel"),  # .xls, or a workbook with a password
        (b"%PDF-1.7\n", "not text"),
        (b"\x89PNG\r\n\x1a\n", "not text"),
    ],
)
def test_a_workbook_excel_cannot_share_or_a_scan_is_refused_saying_what_it_is(
    store: Store, tmp_path: Path, start: bytes, said: str
) -> None:
    """An .xls, a workbook saved with a password (both OLE files) or a scan picked by
    mistake: said for what it is, with what to do, not "lacks required columns"."""
    path = tmp_path / "list.xlsx"
    path.write_bytes(start + b"Name,Passport\n" + bytes(range(1, 0xDA)) * 50)
    assert said in _refused(store, path)


def test_why_a_file_is_refused_is_said_in_the_readers_language(
    store: Store, tmp_path: Path
) -> None:
    path = _write(
        tmp_path, HEADER + '"Aung Kyaw,MA111111,1990,MMR,M\n' + "Su Su,MA222222,1991,MMR,F\n"
    )
    with pytest.raises(UserError) as caught:
        _run(store, path)
    thai = caught.value.translated("th")
    assert "โครงสร้าง CSV เสียหายใกล้แถวที่ 2" in thai
    assert "broken" not in thai
    report = importer.fatal_problem(caught.value)
    assert "โครงสร้าง CSV" in report.message("th")
    assert "the CSV structure is broken near row 2" in caught.value.translated("en")


def test_wrong_encoding_is_refused_with_a_clear_error(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "Nguyễn Văn An,C1234567,1990,VNM,M\n", "utf-16-le")
    _refused(store, path)


def test_a_quote_never_closed_is_refused_naming_its_row_not_rows_swallowed(
    store: Store, tmp_path: Path
) -> None:
    """A stray opening quote made the rest of the file one cell: the rows after it were
    lost without a word and a person was made of them. Now the file is refused, naming
    the row where the quote opens, and nothing goes in."""
    path = _write(
        tmp_path,
        HEADER
        + "Aung Kyaw,MA111111,1990,MMR,M\n"
        + '"Su Su,MA222222,1991,MMR,F\n'
        + "Ko Ko,MA333333,1992,MMR,M\n",
    )
    assert "near row 3" in _refused(store, path)


def test_numbers_in_burmese_digits_go_in_as_digits(store: Store, tmp_path: Path) -> None:
    """A pink-card number typed on a Myanmar phone keyboard is the same number."""
    pink = _valid_pink(1234567890)
    burmese = pink.translate(str.maketrans("0123456789", "၀၁၂၃၄၅၆၇၈၉"))
    path = _write(tmp_path, f"Name,ID,Date of birth\nမောင်မောင်,{burmese},၁၅/၀၃/၂၅၃၈\n")
    report = _run(store, path)
    assert (report.imported, report.rejected) == (1, 0), report.problems
    with store.read() as session:
        assert session.scalars(select(IdentityDocument.number)).one() == pink


def test_zawgyi_name_is_converted_and_raw_kept(store: Store, tmp_path: Path) -> None:
    zawgyi = "ေအာင္ေက်ာ္"  # "Aung Kyaw" typed with a Zawgyi font
    path = _write(tmp_path, HEADER + f"{zawgyi},MB765432,1988,MMR,M\n")
    report = _run(store, path)
    assert report.imported == 1
    assert [p.code for p in report.warnings] == ["text.zawgyi_converted"]
    with store.read() as session:
        name = session.scalars(select(PersonName)).one()
    assert name.full_name == "အောင်ကျော်"
    assert name.raw_input == [zawgyi]


def test_be_dates_are_converted(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "A,MA111111,15/03/2533,MMR,F\nB,MA222222,2535,MMR,F\n")
    assert _run(store, path).imported == 2
    with store.read() as session:
        births = sorted(b or "" for b in session.scalars(select(Person.birth_date)))
    assert births == ["1990-03-15", "1992"]


def test_a_date_kept_as_a_spreadsheet_day_number_is_read_with_a_warning(
    store: Store, tmp_path: Path
) -> None:
    """A date column formatted as a number ("General") shows Excel's day number (34773
    for 15 March 1995), in the workbook and in a CSV saved from it: read as that date,
    and the clerk told which date was read."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Passport No", "Date of birth", "Start date"])
    sheet.append(["Aung Kyaw", "MA123456", 34773, "45658"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    report = _run(store, path)
    assert (report.imported, report.rejected) == (1, 0)
    assert [(p.column, p.code) for p in report.warnings] == [
        ("Date of birth", "import.date_serial"),
        ("Start date", "import.date_serial"),
    ]
    assert "1995-03-15" in report.warnings[0].message()
    with store.read() as session:
        assert session.scalars(select(Person.birth_date)).one() == "1995-03-15"
        assert session.scalars(select(Employment.start_date)).one() == dt.date(2025, 1, 1)


def test_bad_date_rejects_the_row_only(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "A,MA111111,31/02/1990,MMR,F\nB,MA222222,1991,MMR,F\n")
    report = _run(store, path)
    assert (report.imported, report.rejected) == (1, 1)
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (2, "Date of birth", "date.no_such_day")
    ]


def test_duplicate_rows_and_reimport_create_no_duplicates(store: Store, tmp_path: Path) -> None:
    body = HEADER + "A,MA111111,1990,MMR,F\nA again,MA111111,1990,MMR,F\nB,,1991-01-01,MMR,M\n"
    path = _write(tmp_path, body + "B,,1991-01-01,MMR,M\n")
    first = _run(store, path)
    assert (first.imported, first.already_present) == (2, 2)
    assert {p.code for p in first.warnings} == {"import.duplicate_in_file"}
    second = _run(store, path)
    assert (second.imported, second.already_present, second.rejected) == (0, 4, 0)
    assert {p.params.get("by") for p in second.warnings} - {None} == {"document", "name_birth_date"}
    assert _count(store, Person) == 2


def test_a_row_with_a_name_only_goes_in_with_a_warning_that_nothing_tells_it_apart(
    store: Store, tmp_path: Path
) -> None:
    """Two workers of one name with nothing else recorded are two people, never guessed
    to be one; the caseworker hears that a second import would add them again."""
    path = _write(tmp_path, "Name,Sex\nMin Min,M\nMin Min,M\nSu Su,F\n")
    report = _run(store, path)
    assert report.imported == 3
    assert [(p.row, p.code) for p in report.warnings] == [
        (2, "import.name_only"),
        (3, "import.name_only"),
        (4, "import.name_only"),
    ]
    assert "apart" in report.warnings[0].message("en")


def test_how_a_row_was_found_already_present_is_said_in_words(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER + "A,MA111111,1990,MMR,F\n")
    _run(store, path)
    again = _run(store, path).warnings[0]
    assert again.params["by"] == "document"
    assert "(matched by an identity document)" in again.message("en")
    assert "document" not in again.message("th")


def test_missing_required_columns_refuse_the_file(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "Passport No,Sex\nMA111111,M\n")
    with pytest.raises(UserError) as caught:
        _run(store, path)
    assert caught.value.code == "error.import_missing_columns"
    assert _count(store, Person) == 0


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Passport No./เลขหนังสือเดินทาง", "passport"),
        ("ชื่อ-สกุล / Name-Surname", "name"),
        ("วันเกิด (Date of birth)", "birth_date"),
        ("Employer\nนายจ้าง", "employer_name"),
        ("ว/ด/ป เกิด", "birth_date"),  # slashes inside one name: read whole first
    ],
)
def test_a_header_written_in_two_languages_is_recognised_by_either(header: str, field: str) -> None:
    assert importer.map_columns(["ลำดับ", header]) == {field: 1}


def test_columns_left_out_are_named_in_the_report(store: Store, tmp_path: Path) -> None:
    """A column whose header is not recognised (written in two languages at once) is left
    out: the report names it, so a passport column is not dropped without a word."""
    path = _write(
        tmp_path,
        "ลำดับ,Name,Passport No. & เลขหนังสือเดินทาง,,Remark\n1,Aung Kyaw,MA123456,,new\n",
    )
    report = _run(store, path)
    assert report.imported == 1
    assert report.ignored == ["ลำดับ", "Passport No. & เลขหนังสือเดินทาง", "Remark"]
    assert report.to_dict()["ignored_columns"] == report.ignored


def test_map_option_names_an_unknown_header(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "Worker,PP\nAung,MA111111\n")
    report = _run(store, path, overrides=importer.parse_map_option("name=worker,passport=PP"))
    assert (report.imported, report.columns) == (1, {"name": "Worker", "passport": "PP"})


@pytest.mark.parametrize("value", ["name", "name=", "colour=Name"])
def test_bad_map_option_is_refused(value: str) -> None:
    with pytest.raises(UserError):
        importer.parse_map_option(value)


def test_map_to_a_missing_header_is_refused(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "Name\nAung\n")
    with pytest.raises(UserError) as caught:
        _run(store, path, overrides={"passport": "PP"})
    assert caught.value.code == "import.map_header_missing"


def test_check_digit_error_for_thai_warning_for_pink_card(store: Store, tmp_path: Path) -> None:
    good_pink = _valid_pink(12345)
    bad_pink = good_pink[:12] + str((int(good_pink[12]) + 1) % 10)
    thai_first12 = "110170020315"
    bad_thai = thai_first12 + str((ids.thai_id_check_digit(thai_first12) + 1) % 10)
    body = f"Name,ID number\nA,{good_pink}\nB,{bad_pink}\nC,{bad_thai}\n"
    report = _run(store, _write(tmp_path, body))
    assert (report.imported, report.rejected) == (2, 1)
    assert [(p.row, p.severity, p.code) for p in report.problems] == [
        (3, "warning", "id.check_digit"),
        (4, "error", "id.check_digit"),
    ]
    with store.read() as session:
        kinds = set(session.scalars(select(IdentityDocument.kind)))
    assert kinds == {"pink_card"}


def test_bad_passport_format_rejects_the_row(store: Store, tmp_path: Path) -> None:
    report = _run(store, _write(tmp_path, HEADER + "A,M-1,1990,MMR,F\n"))
    assert [p.code for p in report.errors] == ["id.length_range"]
    assert _count(store, Person) == 0


def test_ten_megabytes_of_junk_gives_a_clear_error(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(random.Random(7).randbytes(10 * 1024 * 1024))
    _refused(store, path)


def test_ten_megabytes_of_text_junk_gives_a_clear_error(store: Store, tmp_path: Path) -> None:
    rng = random.Random(3)
    path = tmp_path / "junk.csv"
    alphabet = b'ab,"\n '
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))  # every byte to one of them
    path.write_bytes(rng.randbytes(10 * 1024 * 1024).translate(table))
    with pytest.raises(UserError) as caught:
        _run(store, path)
    assert caught.value.code in {"error.import_unreadable", "error.import_missing_columns"}
    assert _count(store, Person) == 0


def test_a_file_that_cannot_be_read_is_a_clear_error(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list another program holds locked (Excel on Windows), or on a stick pulled out
    while it is read: said, with the system's reason, not a traceback."""
    path = _write(tmp_path, HEADER + "A,MA111111,1990,MMR,F\n")
    real_open = Path.open

    def locked(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", locked)
    with pytest.raises(UserError) as caught:
        _run(store, path)
    assert caught.value.code == "error.import_unreadable"
    assert "Permission denied" in caught.value.translated("en")
    monkeypatch.undo()
    assert _count(store, Person) == 0


def test_too_large_file_is_refused_before_reading(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_FILE_BYTES", 10)
    with pytest.raises(UserError) as caught:
        _run(store, _write(tmp_path, HEADER + "A,MA111111,1990,MMR,F\n"))
    assert caught.value.code == "error.import_too_large"


def test_xlsx_with_title_row_and_numeric_id(store: Store, tmp_path: Path) -> None:
    pink = _valid_pink(1234567890)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["รายชื่อแรงงาน ตาก"])  # a title row above the headers
    sheet.append(["ชื่อ", "เลขประจำตัว", "วันเกิด", "นายจ้าง", "เลขที่บัญชีนายจ้าง"])
    sheet.append(["မောင်မောင်", int(pink), dt.datetime(1995, 1, 2), "Mae Sot Garment", "6300000001"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    report = _run(store, path)
    assert (report.file_format, report.imported, report.header_row) == ("xlsx", 1, 2)
    assert [p.code for p in report.warnings] == ["import.leading_zeros_restored"]
    with store.read() as session:
        assert session.scalars(select(IdentityDocument.number)).one() == pink
        assert session.scalars(select(Employment)).one().employer_id is not None


def test_a_header_of_two_rows_under_merged_cells_maps_the_columns_below(
    store: Store, tmp_path: Path
) -> None:
    """Agency lists group columns under a merged cell ("เอกสาร" over the ID and passport
    columns) and name them in the row below: both rows are the header, the ID and
    passport go in, and the second row is not taken for a person without a name."""
    pink = _valid_pink(1234567890)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["ชื่อ-สกุล", "เอกสาร", None, "วันเกิด"])
    sheet.merge_cells("B1:C1")
    sheet.merge_cells("A1:A2")
    sheet.merge_cells("D1:D2")
    sheet.append([None, "เลขบัตรชมพู", "หนังสือเดินทาง", None])
    sheet.append(["มิน มิน", pink, "MC1234567", "1990-05-17"])
    path = tmp_path / "list.xlsx"
    book.save(path)
    report = _run(store, path)
    assert (report.imported, report.rejected, report.problems) == (1, 0, [])
    assert report.header_row == 2
    assert report.columns == {
        "name": "ชื่อ-สกุล",
        "id13": "เลขบัตรชมพู",
        "passport": "หนังสือเดินทาง",
        "birth_date": "วันเกิด",
    }
    with store.read() as session:
        numbers = sorted(session.scalars(select(IdentityDocument.number)))
    assert numbers == sorted([pink, "MC1234567"])


def test_a_first_row_of_data_is_never_taken_for_a_second_header_row(
    store: Store, tmp_path: Path
) -> None:
    """A column without a header whose first value happens to be a header's word ("CI",
    the kind of document) does not make the first person a header row: under the named
    columns a data row has values, a second header row has none."""
    path = _write(tmp_path, "Name,Passport No,\nAung Kyaw,MA111111,CI\nSu Su,MA222222,CI\n")
    report = _run(store, path)
    assert (report.header_row, report.imported, report.rejected) == (1, 2, 0)


def test_xlsx_reads_the_sheet_shown_not_a_hidden_one_before_it(
    store: Store, tmp_path: Path
) -> None:
    """Agency workbooks often keep an old list or a lookup table on a hidden sheet before
    the one shown: the sheet a person opening the file sees is the one imported."""
    book = openpyxl.Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.title = "old list"
    hidden.sheet_state = "hidden"
    hidden.append(["Name", "Passport No"])
    hidden.append(["Last Year Worker", "MA111111"])
    shown = book.create_sheet("March")
    shown.append(["Name", "Passport No"])
    shown.append(["Aung Kyaw", "MA123456"])
    book.create_sheet("notes").append(["nothing to import here"])
    book.active = 1
    path = tmp_path / "list.xlsx"
    book.save(path)
    report = _run(store, path)
    assert (report.imported, report.rejected) == (1, 0)
    assert _names(store) == [("Aung Kyaw",)]

    book.active = 0  # saved with the hidden sheet selected: the first one shown is read
    book.save(path)
    assert _run(store, path, dry_run=True).already_present == 1  # "March" again


def test_an_xlsx_that_unpacks_to_far_more_than_it_holds_is_refused(
    store: Store, tmp_path: Path
) -> None:
    """A small file that unpacks to gigabytes (a zip bomb, or a sheet of a million styled
    empty rows) would fill an old laptop's memory: refused before it is unpacked."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Passport No"])
    sheet.append(["Aung Kyaw", "MA123456"])
    book.save(tmp_path / "list.xlsx")
    path = tmp_path / "bomb.xlsx"
    with (
        zipfile.ZipFile(tmp_path / "list.xlsx") as plain,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for part in plain.infolist():
            data = plain.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":  # 4 MB of blanks: a thousand to one
                data = data.replace(b"</sheetData>", b" " * 4_000_000 + b"</sheetData>")
            bomb.writestr(part, data)
    assert path.stat().st_size < 100_000
    assert "unpacks" in _refused(store, path)


def _rewritten(source: Path, target: Path, change: Any) -> Path:
    """A copy of the workbook ``source`` with its first sheet's XML passed through ``change``."""
    with (
        zipfile.ZipFile(source) as plain,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for part in plain.infolist():
            data = plain.read(part)
            out.writestr(
                part, change(data) if part.filename == "xl/worksheets/sheet1.xml" else data
            )
    return target


def _two_people(tmp_path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Passport No"])
    sheet.append(["Aung Kyaw", "MA123456"])
    sheet.append(["Su Su", "MB123456"])
    book.save(tmp_path / "list.xlsx")
    return tmp_path / "list.xlsx"


def test_the_sheets_a_workbook_shows_but_were_not_read_are_named(
    store: Store, tmp_path: Path
) -> None:
    """An agency list with a sheet per month: the people on the others are not imported
    without a word."""
    book = openpyxl.load_workbook(_two_people(tmp_path))
    book.active.title = "October"
    book.create_sheet("November").append(["Name", "Passport No"])
    book.create_sheet("lookup").sheet_state = "hidden"
    book.save(tmp_path / "months.xlsx")

    report = _run(store, tmp_path / "months.xlsx")

    assert report.imported == 2
    assert report.other_sheets == ("November",)
    assert report.to_dict()["other_sheets"] == ["November"]


def test_a_workbook_cut_short_is_refused_and_nothing_goes_in(store: Store, tmp_path: Path) -> None:
    """A workbook cut short (a download that stopped, a stick pulled out): a clear error,
    not a traceback from the XML reader, and no row of it imported."""
    path = _rewritten(
        _two_people(tmp_path), tmp_path / "cut.xlsx", lambda xml: xml[: xml.index(b"Su Su")]
    )
    assert "damaged" in _refused(store, path)


def test_a_cell_holding_a_formula_error_keeps_the_row_out(store: Store, tmp_path: Path) -> None:
    """A name looked up by a formula that failed (#N/A) is no name: the row is refused on
    that column, not a person named "#N/A"."""

    def failed_lookup(xml: bytes) -> bytes:
        text = xml.decode()
        start = text.index('<c r="A3"')
        end = text.index("</c>", start) + len("</c>")
        cell = '<c r="A3" t="e"><f>VLOOKUP(B3,Names!A:B,2,0)</f><v>#N/A</v></c>'
        return (text[:start] + cell + text[end:]).encode()

    path = _rewritten(_two_people(tmp_path), tmp_path / "lookup.xlsx", failed_lookup)
    report = _run(store, path)
    assert (report.imported, report.rejected) == (1, 1)
    first = report.errors[0]
    assert (first.row, first.column, first.code) == (3, "Name", "import.cell_error")
    assert "#N/A" in first.message()
    assert _names(store) == [("Aung Kyaw",)]


def test_dry_run_writes_nothing(store: Store, tmp_path: Path) -> None:
    report = _run(store, _write(tmp_path, HEADER + "A,MA111111,1990,MMR,F\n"), dry_run=True)
    assert (report.imported, report.dry_run) == (1, True)
    assert _count(store, Person) == 0


def test_a_report_cell_a_spreadsheet_would_run_is_written_as_text(tmp_path: Path) -> None:
    """A column named by the list being imported ("=HYPERLINK(...)") is no formula in the
    report a caseworker opens in a spreadsheet program."""
    problem = importer.RowProblem(3, '=HYPERLINK("http://x","y")', "error.name_required", "error")
    out = tmp_path / "report.csv"
    importer.write_report([problem], out)
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith('3,"\'=HYPERLINK(""http://x"",""y"")",error,')


def test_report_csv_has_row_column_code_and_message(store: Store, tmp_path: Path) -> None:
    report = _run(store, _write(tmp_path, HEADER + ",MA111111,1990,MMR,F\n"))
    out = tmp_path / "report.csv"
    importer.write_report(report.problems, out)
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,severity,code,message"
    assert lines[1].startswith("2,Name,error,error.name_required,")


def test_every_person_has_their_documents_after_batches(store: Store, tmp_path: Path) -> None:
    rows = "".join(f"P{i},MA{i:06d},1990,MMR,M\n" for i in range(25))
    report = _run(store, _write(tmp_path, HEADER + rows), batch_rows=7)
    assert report.imported == 25
    with store.read() as session:
        with_docs = session.scalar(select(func.count(func.distinct(IdentityDocument.person_id))))
    assert with_docs == _count(store, Person) == 25


def test_a_row_with_a_value_too_long_for_the_server_is_reported_and_the_others_go_in(
    store: Store, tmp_path: Path
) -> None:
    """Each over-long cell is named by row and column with its limit, as the other row
    problems are; that row writes nothing (no person, name or job), the others go in,
    and a value exactly at its limit is one of them."""
    header = "Name,Passport No,Phone,Address,Employer,Occupation\n"
    rows = [
        "Aung Kyaw,MA111111,0811111111,Mae Sot,Tak Farm,picker",
        f"{'ก' * 201},MA222222,0822222222,{'ถนน' * 167},{'x' * 201},picker",
        f"{'ก' * 200},MA333333,{'0' * 40},{'ถ' * 500},{'y' * 200},{'z' * 120}",
        "Sok Dara,MA444444,0844444444,Mae Sot,Tak Farm,picker",
    ]
    report = _run(store, _write(tmp_path, header + "\n".join(rows) + "\n"))

    assert (report.imported, report.rejected) == (3, 1)
    found = [
        (p.row, p.column, p.code, p.params["limit"], p.params["length"]) for p in report.errors
    ]
    assert found == [
        (3, "Address", "value.too_long", 500, 501),
        (3, "Name", "value.too_long", 200, 201),
        (3, "Employer", "value.too_long", 200, 201),
    ]
    assert report.errors[1].message("en").startswith("Name: full name is too long")
    assert report.errors[1].message("th").startswith("ชื่อ: ชื่อเต็ม ยาวเกินไป")
    with store.read() as session:
        numbers = set(session.scalars(select(IdentityDocument.number)))
        assert session.scalar(select(func.count()).select_from(Employment)) == 3
    assert numbers == {"MA111111", "MA333333", "MA444444"}
    assert _count(store, Person) == 3


def test_a_surname_too_long_is_named_in_its_own_column(store: Store, tmp_path: Path) -> None:
    """The full name joins name and surname: both are too long, each in its own column."""
    path = _write(tmp_path, f"Name,Surname,Passport No\nSok,{'ស' * 201},MA111111\n")
    report = _run(store, path)
    assert report.rejected == 1
    assert [(p.column, p.params["length"]) for p in report.errors] == [
        ("Name", 205),
        ("Surname", 201),
    ]


def _enrol_at(store: Store, name: str, employer: dict[str, str]) -> None:
    """A new person ``name``'s section 39 enrollment naming ``employer`` (its facts)."""
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput(name)]))
    facts = {f"employer.{key}": value for key, value in employer.items()}
    commit = ui_wizards.TrackCommit("enrollment", "section_39", steps=[], facts=facts)
    ui_wizards.commit_track(store, case_id, commit)


def test_a_list_names_the_employers_an_enrollment_made_and_the_wizard_those_it_made(
    store: Store, tmp_path: Path
) -> None:
    """One lookup (``employers.find_employer``) for both: an agency list naming the
    employer an enrollment made (by its account, or by a name written another way) adds
    none, and an enrollment naming an employer a list made adds none either."""
    _enrol_at(store, "A", {"name": "Tak Farm", "sso_account": "6300000001"})
    header = "Name,Passport No,Employer,Employer account\n"
    rows = "B,MA222222,Tak Farm Co,6300000001\nC,MA333333,ไร่ส้ม  ตาก,\nD,MA444444,ไร่ส้ม ตาก,\n"
    assert _run(store, _write(tmp_path, header + rows)).imported == 3
    _enrol_at(store, "E", {"name": "ไร่ส้ม ตาก"})
    with store.read() as session:
        employers = {e.id: (e.name, e.sso_account) for e in session.scalars(select(Employer))}
        jobs = [employers[e] for e in session.scalars(select(Employment.employer_id))]
    assert sorted(employers.values(), key=str) == [("Tak Farm", "6300000001"), ("ไร่ส้ม ตาก", None)]
    assert sorted(jobs, key=str) == [("Tak Farm", "6300000001")] * 2 + [("ไร่ส้ม ตาก", None)] * 3


def test_a_title_and_marital_status_go_in_as_codes_from_thai_or_english(
    store: Store, tmp_path: Path
) -> None:
    body = (
        "Name,Passport No,Sex,คำนำหน้าชื่อ,สถานภาพสมรส\n"
        "Ma Aye,MA111111,F,น.ส.,สมรส\n"  # a married woman may keep นางสาว
        "Daw Hla,MA222222,F,Mrs.,widowed\n"
        "Ko Ko,MA333333,M,นาย,โสด\n"
        "Ma Su,MA444444,F,,\n"
    )
    report = _run(store, _write(tmp_path, body))
    assert (report.imported, report.rejected, report.problems) == (4, 0, [])
    assert _by_name(store, Person.title, Person.marital_status) == {
        "Ma Aye": ("miss", "married"),
        "Daw Hla": ("mrs", "widowed"),
        "Ko Ko": ("mr", "single"),
        "Ma Su": (None, None),
    }


def test_an_unknown_title_or_marital_status_keeps_the_row_out_with_a_clear_error(
    store: Store, tmp_path: Path
) -> None:
    body = (
        "Name,Passport No,Sex,Title,Marital status\n"
        "Ma Aye,MA111111,F,Ms,single\n"  # Ms has no SSO title code
        "Ma Hla,MA222222,F,Miss,engaged\n"
        "Ko Ko,MA333333,M,Mrs,\n"  # a woman's title for a man
        "Ma Su,MA444444,F,Miss,single\n"
    )
    report = _run(store, _write(tmp_path, body))
    assert (report.imported, report.rejected) == (1, 3)
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (2, "Title", "import.unknown_title"),
        (3, "Marital status", "import.unknown_marital_status"),
        (4, "Title", "person.title_sex"),
    ]
    assert report.errors[0].message() == (
        '"Ms" is not a title Sapan records (Mr/นาย, Mrs/นาง, Miss/นางสาว); the row is not'
        " imported. Correct it, or leave the cell empty."
    )
    assert report.errors[0].message("th").startswith('"Ms" ไม่ใช่คำนำหน้าชื่อ')
    assert _count(store, Person) == 1
    assert [n for (n,) in _names(store)] == ["Ma Su"]


def _names(store: Store) -> list[tuple[str]]:
    with store.read() as session:
        return [(n,) for n in session.scalars(select(PersonName.full_name))]


def _by_name(store: Store, *details: Any) -> dict[str, Any]:
    """Each stored name (all of a person's names) -> the person's ``details`` (one alone
    as it is, several as a tuple)."""
    with store.read() as session:
        rows = session.execute(
            select(PersonName.full_name, *details).join(Person, Person.id == PersonName.person_id)
        )
        return {name: values[0] if len(values) == 1 else tuple(values) for name, *values in rows}


def _titles(store: Store) -> dict[str, Any]:
    return _by_name(store, Person.title)


def test_a_title_written_in_the_name_goes_into_the_title_and_the_rest_is_the_name(
    store: Store, tmp_path: Path
) -> None:
    body = (
        "Name,Passport No,Sex\n"
        "นางสาวสมศรี ใจดี,MA111111,F\n"
        "Mrs. Aye Aye,MA222222,F\n"
        "Miss Mya,MA333333,\n"
        "MR Tun Tun,MA444444,M\n"
        "นาย สมชาย ใจดี,MA555555,M\n"
        "นางสาวิตรี ใจดี,MA666666,F\n"  # Mrs Sawitri: นาง, not นางสาว + a vowel sign
        # names that merely start with those letters stay whole
        "นางรอง,MA777777,F\n"  # one word: a name, not a title and a name
        "นายิกา ใจดี,MA888888,F\n"
        "Missy Lee,MA999999,F\n"
    )
    report = _run(store, _write(tmp_path, body))
    assert (report.imported, report.rejected) == (9, 0)
    # a Thai title written straight before the given name (นางนวล is a given name too):
    # the clerk is told what was read
    assert report.errors == []
    assert [(p.row, p.column, p.code) for p in report.warnings] == [
        (2, "Name", "import.name_title_read"),
        (7, "Name", "import.name_title_read"),
    ]
    assert "สมศรี ใจดี" in report.warnings[0].message()
    assert _titles(store) == {
        "สมศรี ใจดี": "miss",
        "Aye Aye": "mrs",
        "Mya": "miss",
        "Tun Tun": "mr",
        "สมชาย ใจดี": "mr",
        "สาวิตรี ใจดี": "mrs",
        "นางรอง": None,
        "นายิกา ใจดี": None,
        "Missy Lee": None,
    }


def test_a_title_lifted_from_the_name_keeps_given_name_and_every_name_column_apart(
    store: Store, tmp_path: Path
) -> None:
    body = "Given name,Family name,Name (Thai),Passport No,Sex\nMrs Aye,Win,นางอาย วิน,MA111111,F\n"
    report = _run(store, _write(tmp_path, body))
    assert report.imported == 1
    assert [(p.column, p.code) for p in report.warnings] == [
        ("Name (Thai)", "import.name_title_read")
    ]
    assert report.errors == []
    with store.read() as session:
        rows = session.execute(
            select(PersonName.kind, PersonName.full_name, PersonName.given_name)
        ).all()
        person = session.scalars(select(Person)).one()
    assert sorted(rows) == [("native", "Aye Win", "Aye"), ("thai", "อาย วิน", None)]
    assert person.title == "mrs"


def test_a_title_in_the_name_that_disagrees_with_the_title_column_keeps_the_row_out(
    store: Store, tmp_path: Path
) -> None:
    body = (
        "Name,Name (Thai),Passport No,Sex,Title\n"
        "Mrs Aye Aye,,MA111111,F,Miss\n"  # disagrees with the column
        "Miss Mya,,MA222222,F,นางสาว\n"  # agrees: lifted, no problem
        "Miss Hla,นางหล้า วิน,MA333333,F,\n"  # the two names disagree
        "Ms Su,,MA444444,F,\n"  # Ms: no SSO code, refused as the title column refuses it
        "นางสมศรี ใจดี,,MA555555,M,\n"  # a woman's title for a man
        "Mr Ko,,MA666666,M,Dr\n"  # the column is refused already: said once
    )
    report = _run(store, _write(tmp_path, body))
    assert (report.imported, report.rejected) == (1, 5)
    assert [(p.row, p.column, p.code) for p in report.errors] == [
        (2, "Name", "import.name_title_disagrees"),
        (4, "Name (Thai)", "import.name_title_disagrees"),
        (5, "Name", "import.name_title_unknown"),
        (6, "Name", "person.title_sex"),
        (7, "Title", "import.unknown_title"),
    ]
    assert (
        report.errors[0]
        .message()
        .startswith(
            'The name begins with the title "Mrs" but the title given is "Miss"; the row is not'
            " imported."
        )
    )
    assert report.errors[1].params == {"written": "นาง", "title": "Miss"}
    assert report.errors[2].message("th").startswith('ชื่อขึ้นต้นด้วย "Ms"')
    assert _titles(store) == {"Mya": "miss"}
