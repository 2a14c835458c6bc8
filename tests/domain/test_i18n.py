"""The message catalogue: every key in all five languages, placeholders consistent."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.domain import i18n
from desktop.domain.catalogue import ENTITIES, Merge


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_key_has_every_language(lang: str) -> None:
    assert i18n.missing_translations(lang) == []


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_placeholders_match_english() -> None:
    wrong = []
    for key, texts in i18n.catalogue().items():
        expected = _fields(texts["en"])
        forms = i18n.plural_forms().get(key, {})
        for lang, template in texts.items():
            for form in [template, *forms.get(lang, {}).values()]:
                if _fields(form) != expected:
                    wrong.append(f"{key} [{lang}]")
    assert wrong == []


def test_a_message_with_plural_forms_is_chosen_by_its_count() -> None:
    assert i18n.text("ui.sync_status.conflicts", "en", count=1) == "1 conflict to review"
    assert i18n.text("ui.sync_status.conflicts", "en", count=2) == "2 conflicts to review"
    assert i18n.text("ui.sync_status.conflicts", "en", count=0) == "0 conflicts to review"
    assert i18n.text("ui.cases.count", "en", count="1") == "1 case"  # a count as typed
    assert i18n.text("ui.duration.days", "en", count="1,234") == "1,234 days"
    # Thai, Burmese, Khmer and Lao do not inflect: one text for every count
    assert i18n.text("ui.cases.count", "th", count=1) == "1 กรณี"
    assert i18n.text("ui.cases.count", "my", count=1) == "အမှုတွဲ 1 ခု"
    # a language without the text falls back to English, forms and all
    assert i18n.text("ui.cases.count", "xx", count=1) == "1 case"
    # the catalogue, and a message asked without its count, give the general form
    assert i18n.catalogue()["ui.cases.count"]["en"] == "{count} cases"
    assert i18n.text("ui.cases.count", "en") == "{count} cases"


def test_the_count_of_a_phrase_with_other_parameters_chooses_too() -> None:
    said = i18n.text("ui.print_queue.count", "en", shown=1, count=1)
    assert said == "Showing 1 of 1 matching case"
    said = i18n.text("export.person_files_missing", "en", count=1)
    assert said.startswith("1 attached file is not on this device yet, so it is not")


@pytest.mark.parametrize(
    ("lang", "count", "category"),
    [
        ("en", 1, "one"),
        ("en", "1", "one"),
        ("en", 0, "other"),
        ("en", 2, "other"),
        ("en", 21, "other"),  # English has no "one" beyond 1 itself
        ("en", 1.0, "other"),  # "1.0 days": CLDR counts visible decimals as other
        ("en", True, "other"),
        ("th", 1, "other"),
        ("my", 1, "other"),
        ("km", 1, "other"),
        ("lo", 1, "other"),
        ("xx", 1, "other"),
    ],
)
def test_plural_category(lang: str, count: object, category: str) -> None:
    assert i18n.plural_category(lang, count) == category


def test_every_english_count_before_a_plural_noun_has_a_form_for_one() -> None:
    """ "1 conflicts to review": a count that can be 1 names its noun in both forms."""
    plain = [
        key
        for key, texts in i18n.catalogue().items()
        if re.search(r"\{count\} \w+s\b", texts["en"])
        and "one" not in i18n.plural_forms().get(key, {}).get("en", {})
    ]
    assert plain == []


@pytest.fixture
def own_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, str]], None]]:
    """Writes a translations folder of the test's own, read instead of the app's.

    The cache is cleared once the files are written, not before: background work left
    running by an earlier test could otherwise read the folder, empty, in between."""
    folder = tmp_path / "translations"
    folder.mkdir()
    monkeypatch.setattr(i18n, "resource_path", lambda *parts: tmp_path.joinpath(*parts))

    def write(files: dict[str, str]) -> None:
        for name, content in files.items():
            (folder / name).write_text(content, encoding="utf-8")
        i18n._load.cache_clear()

    yield write
    monkeypatch.undo()
    i18n._load.cache_clear()


@pytest.mark.parametrize(
    ("forms", "wrong"),
    [
        ("  en:\n    one: '{count} case'\n", "with other"),  # no general form
        ("  en: '{count} cases'\n  th:\n    one: 'x'\n    other: 'y'\n", "[th]"),
        ("  en:\n    few: 'a'\n    other: 'b'\n", "one, other"),
    ],
)
def test_plural_forms_other_than_a_languages_categories_are_refused(
    own_catalogue: Callable[[dict[str, str]], None], forms: str, wrong: str
) -> None:
    own_catalogue({"x.yaml": "ui.cases.count:\n" + forms})
    with pytest.raises(i18n.CatalogueError, match=re.escape(wrong)):
        i18n.catalogue()


def test_a_catalogue_file_read_with_plural_forms(
    own_catalogue: Callable[[dict[str, str]], None],
) -> None:
    plural = "k:\n  en:\n    one: '{count} case'\n    other: '{count} cases'\n"
    own_catalogue({"x.yaml": plural + "  th: '{count} กรณี'\n"})
    assert i18n.catalogue() == {"k": {"en": "{count} cases", "th": "{count} กรณี"}}
    assert i18n.plural_forms() == {"k": {"en": {"one": "{count} case", "other": "{count} cases"}}}


def test_unknown_key_is_returned_as_is() -> None:
    assert i18n.text("no.such.key", "th") == "no.such.key"


def test_a_code_is_named_in_the_readers_language_and_an_unknown_one_as_it_is() -> None:
    assert i18n.coded_name("ui.title", "miss", "th") == "นางสาว"
    assert i18n.coded_name("ui.marital", "married", "en") == "Married"
    assert i18n.coded_name("ui.title", "dr", "th") == "dr"  # a newer colleague's code
    assert i18n.coded_name("ui.title", None, "th") == ""


def test_fills_parameters_and_falls_back_to_english() -> None:
    assert i18n.text("error.unexpected", "th").startswith("เกิด")
    assert i18n.text("error.unexpected", "xx") == i18n.text("error.unexpected", "en")


# Fields a caseworker fills in or changes: a refusal or a conflict names them in words.
EDITABLE = [
    ("person", "sex"),
    ("person", "title"),
    ("person", "marital_status"),
    ("person", "birth_date"),
    ("person", "nationality"),
    ("person", "arrived_on"),
    ("person", "languages"),
    ("person", "preferred_language"),
    ("person", "phone"),
    ("person", "line_id"),
    ("person", "address_th"),
    ("person", "address_home"),
    ("person_name", "honorific"),
    ("person_name", "raw_input"),
    ("identity_document", "kind"),
    ("identity_document", "issuing_country"),
    ("employer", "province_code"),
    ("employer", "district"),
    ("employer", "address"),
    ("employer", "contact_name"),
    ("employer", "phone"),
    ("employment", "occupation"),
    ("contribution_month", "source"),
    ("case", "opened_on"),
    ("case", "closed_on"),
    ("track", "benefit"),
    ("track", "path"),
    ("step", "state"),
    ("checklist_item", "note"),
    ("attachment", "description"),
    ("attachment", "filename"),
    ("note", "body"),
    ("consent", "scope"),
    ("consent", "method"),
]


def _text(key: str, lang: str, **params: object) -> str:
    return i18n.text(key, lang, **params)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_field_that_can_conflict_or_a_caseworker_edits_has_a_label(lang: str) -> None:
    reviewed = [
        (entity, f.name)
        for entity, spec in ENTITIES.items()
        for f in spec.fields.values()
        if f.merge is Merge.REVIEW
    ]
    assert reviewed
    translate = functools.partial(_text, lang=lang)
    for entity, name in [*reviewed, *EDITABLE, *((e, "*") for e in ENTITIES)]:
        label = i18n.detail_text(entity, name, translate)
        assert label != f"{entity}.{name}", (lang, entity, name)


def test_a_detail_reads_in_words_and_one_without_a_label_as_the_protocol_names_it() -> None:
    assert i18n.detail_text("person", "birth_date", i18n.text) == "Person: birth date"
    assert i18n.detail_text("employer", "phone", i18n.text) == "Employer: phone"
    assert i18n.detail_text("person_name", "*", i18n.text) == "Name: new record"
    assert i18n.detail_text("note", "deleted", i18n.text) == "Note: deletion"
    assert i18n.detail_text("person_name", "person_id", str) == "person_name.person_id"
    assert i18n.detail_text("widget", "*", str) == "widget.*", "an unknown entity"


def test_a_detail_as_a_parameter_is_put_in_the_language_of_its_message() -> None:
    """An issue made where the reader is not known names its detail in their words."""
    detail = i18n.Detail("person_name", "family_name")
    thai = i18n.text("sync.reason.too_long", "th", detail=detail)
    assert thai.startswith("ชื่อ: นามสกุล ยาวเกิน")
    assert i18n.text("sync.reason.too_long", "en", detail=detail).startswith("Name: family name")
    assert str(detail) == "Name: family name"  # logs and exceptions read English


@pytest.mark.parametrize(
    ("files", "wrong"),
    [
        ({"a.yaml": "- a list\n"}, "a.yaml: top level must be a mapping"),
        ({"a.yaml": "k:\n  th: 'x'\n"}, "a.yaml: key 'k' needs at least an 'en' text"),
        ({"a.yaml": "k:\n  en: 'x'\n", "b.yaml": "k:\n  en: 'y'\n"}, "b.yaml: key 'k'"),
    ],
)
def test_a_malformed_catalogue_is_refused(
    own_catalogue: Callable[[dict[str, str]], None], files: dict[str, str], wrong: str
) -> None:
    own_catalogue(files)
    with pytest.raises(i18n.CatalogueError, match=re.escape(wrong)):
        i18n.catalogue()


def test_a_parameter_left_out_shows_its_name_in_the_english_text() -> None:
    said = i18n.text("ui.print_queue.count", "th", shown=3)
    assert said == "Showing 3 of {count} matching cases"


def test_a_label_of_a_key_the_catalogue_lacks_reads_as_its_last_part() -> None:
    assert i18n.Label("workflow.step.gather_documents").in_language("en") == "Gather documents"
    assert i18n.Label("workflow.step.no_such_step").in_language("th") == "no such step"
    with pytest.raises(NotImplementedError):
        i18n.Phrase().in_language("en")


TITLES = {"mr": "นาย", "mrs": "นาง", "miss": "นางสาว"}  # as the Thai forms print them


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_persons_title_reads_in_the_case_file_as_the_printed_form_says_it(lang: str) -> None:
    """The case file, the New case form and the SSO 1-03 the caseworker hands in name a
    person's title and marital status in the same words, and offer each title as the form
    prints it, then its Thai word."""
    for ui_key in ("ui.person.title", "ui.new_case.person_title"):
        assert _text(ui_key, lang) == _text("form.label.title", lang), ui_key
    assert _text("ui.person.marital_status", lang) == _text("form.label.marital_status", lang)
    for code, thai in TITLES.items():
        offered, printed = _text(f"ui.title.{code}", lang), _text(f"form.option.{code}", lang)
        assert offered == (thai if lang == "th" else f"{printed} ({thai})"), code
    for code in ("single", "married", "widowed", "divorced"):
        assert _text(f"ui.marital.{code}", lang) == _text(f"form.option.{code}", lang), code


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_title_of_the_other_sex_is_named_by_the_thai_word_the_form_prints(lang: str) -> None:
    """The refusal names each title by its Thai word (in Thai script, as printed), and,
    outside Thai, by the word the case file offers beside it."""
    said = _text("person.title_sex", lang)
    for code, thai in TITLES.items():
        assert thai in said, code
        if lang not in ("th", "en"):
            assert f"{thai} ({_text(f'form.option.{code}', lang)})" in said, code


# A thing the catalogue names in one word, and the other words it must not use for it
# (one seen creeping in), by language: a caseworker reads one word for one thing.
ONE_WORD = {
    "my": {"ပေါင်း (merge)": ("ပေါင်းစည်း",), "ဘွဲ့အမည် (title)": ("အမည်ရှေ့ဆက်",)},
    "th": {"ซิงก์ (sync)": ("ซิงค์",)},
}


@pytest.mark.parametrize("lang", sorted(ONE_WORD))
def test_one_thing_is_said_in_one_word(lang: str) -> None:
    found = [
        (key, word)
        for key, texts in i18n.catalogue().items()
        for other in ONE_WORD[lang].values()
        for word in other
        for form in [texts[lang], *i18n.plural_forms().get(key, {}).get(lang, {}).values()]
        if word in form
    ]
    assert found == []
