"""Synthetic but realistic demo data: ``sapan demo --people N [--seed S]``.

Workers from Myanmar, Cambodia, Laos (some Vietnam) with names in their own script, the
Latin spelling of their passport and a Thai transliteration, a title and marital status
that fit their sex and age (women Mrs or Miss, some of either left unrecorded);
pink-card numbers with valid check digits (a few deliberately wrong, as real lists have),
passports, CIs, work permits and border passes; employers in border provinces with
valid-format SSO accounts; employment and 12-60 months of contributions with gaps and
months deducted but not remitted (some jobs ended in the last months), or for a fifth of
them a job begun weeks ago and not registered yet; one case per worker with an enrollment
track and, for many, claim tracks, each stopped at a random step so every step appears,
as a real caseload would have it: a track opened months ago handed in (the registration
of a worker who has paid in, a claim filed), a newcomer's enrollment still to do and
nothing to claim yet, no date after today. Name parts, places and demo workflows are
data in ``resources/demo/``.

**Deterministic.** Person *i* is drawn from its own ``random.Random(f"{seed}:person:{i}")``
and every row id is a UUID5 of the seed and its role, so the same seed and the same
``today`` give the same data (also for a prefix of a larger run); no global random state.

**Fast, through the same recording.** Writing 1,000 people through the ORM one object at a
time takes minutes (each row also makes its outbox entries and audit event). The demo
therefore writes with :class:`BulkWriter`: Core ``executemany`` inserts of the same rows,
with the outbox entries (one per non-empty field, base version 0, an HLC stamp) and the
``<entity>.created`` audit events that :mod:`desktop.models.recorder` would write, in one
transaction per batch of people. ``tests/services/test_demo.py`` checks the two agree.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from desktop.domain import ids, names, text, workflow
from desktop.domain.dates import YearMonth
from desktop.domain.errors import UserError
from desktop.domain.resources import load_yaml, resource_path
from desktop.domain.workflow import Outcome, StepProgress, StepState
from desktop.models import case_numbers
from desktop.models.entities import (
    Case,
    ChecklistItem,
    Consent,
    ContributionMonth,
    Employer,
    Employment,
    IdentityDocument,
    Note,
    Person,
    PersonName,
    Step,
    Track,
)
from desktop.models.recorder import BulkWriter
from desktop.models.search import reindex_people
from desktop.models.store import Store
from desktop.services import cases, steps

MAX_PEOPLE = 1_000_000
# Set on a store that ever received demo data: sync refuses such a store, so invented
# people never reach a real server (desktop/services/sync.py).
DEMO_SETTING = "demo_data"
BATCH_PEOPLE = 200
PROGRESS_EVERY = 10  # people between progress reports (a batch takes seconds)
# The share of demo workers whose job began weeks ago and is not registered yet.
NEWCOMERS = 0.2
# A demo track opened longer ago than this has been handed in (a claim filed, a worker with
# contributions registered): the Tasks page shows the deadlines a real caseload has, not
# years-old filings nobody made.
HANDED_IN_AFTER_DAYS = 120
ProgressCallback = Callable[[int, int], None]
Part = tuple[str, str, str]  # native, Latin, Thai


# --- resources ----------------------------------------------------------------------------


@functools.cache
def _load(name: str) -> Mapping[str, Any]:
    data = load_yaml(resource_path("demo", name))
    if not isinstance(data, dict):
        raise ValueError(f"resources/demo/{name} must be a mapping")
    return data


def _parts(items: Sequence[Sequence[str]]) -> list[Part]:
    return [(str(a), str(b), str(c)) for a, b, c in items]


# --- the generator ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    people: int
    employers: int
    cases: int
    tracks: int
    seconds: float
    person_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Employer:
    id: str
    province: Mapping[str, Any]
    trade: Sequence[str]
    district: Sequence[str]


class _Ids:
    """Row ids derived from the seed: the same seed gives the same ids."""

    def __init__(self, seed: int) -> None:
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"https://sapan.invalid/demo/{seed}")

    def __call__(self, *role: object) -> str:
        return str(uuid.uuid5(self.namespace, ":".join(str(r) for r in role)))


def generate(
    store: Store,
    people: int,
    *,
    seed: int = 1,
    today: dt.date | None = None,
    contributions: bool = True,
    batch_people: int = BATCH_PEOPLE,
    progress: ProgressCallback | None = None,
    record: bool = True,
) -> DemoSummary:
    """Write ``people`` demo workers (with employers, cases, tracks) into ``store``.

    ``record=False`` writes the rows as if they had been pulled from a server (no outbox
    entries, no audit events): the benchmarks use it to build a 100,000-case store the way
    a coordinator's device receives one.

    Running twice with the same seed would repeat ids: the second run is refused by the
    database (primary keys), so use another seed to add more.
    """
    if not 1 <= people <= MAX_PEOPLE:
        raise UserError("demo.bad_count", maximum=MAX_PEOPLE)
    store.set_setting(DEMO_SETTING, True)  # before any row: a cancelled load counts too
    started = time.perf_counter()
    today = today or dt.date.today()
    make_id = _Ids(seed)
    writer = BulkWriter(store.change_context(), record=record)
    employers = _employers(writer, make_id, seed, max(3, people // 15))
    counts = {"cases": 0, "tracks": 0}
    person_ids: list[str] = []
    reserved: dict[str, list[str]] = {}
    done = 0
    while done < people:
        size = min(batch_people, people - done)
        with store.session() as session:
            batch_ids = []
            for index in range(done, done + size):
                rng = random.Random(f"{seed}:person:{index}")
                person_id = _person(
                    writer, rng, make_id, index, employers, today, contributions=contributions
                )
                tracks = _case(
                    writer, session, rng, make_id, index, person_id, today, store, reserved
                )
                counts["cases"] += 1
                counts["tracks"] += tracks
                batch_ids.append(person_id)
                if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
                    # Inside the batch: a cancel raised here rolls back this batch only.
                    progress(index + 1, people)
            writer.flush(session)
            reindex_people(session, batch_ids)
        person_ids.extend(batch_ids)
        done += size
        if progress is not None and done % PROGRESS_EVERY:
            progress(done, people)
    return DemoSummary(
        people=people,
        employers=len(employers),
        cases=counts["cases"],
        tracks=counts["tracks"],
        seconds=time.perf_counter() - started,
        person_ids=tuple(person_ids),
    )


def _employers(writer: BulkWriter, make_id: _Ids, seed: int, count: int) -> list[_Employer]:
    places = _load("places.yaml")
    provinces: list[Mapping[str, Any]] = list(places["provinces"])
    out: list[_Employer] = []
    for index in range(count):
        rng = random.Random(f"{seed}:employer:{index}")
        province = provinces[index % len(provinces)]
        district = rng.choice(province["districts"])
        trade = rng.choice(places["trades"])
        word = rng.choice(places["place_words"])
        latin_form, thai_prefix, thai_suffix = rng.choice(places["legal_forms"])
        town_en, town_th = (district if rng.random() < 0.5 else word)[:2]
        name = f"{town_en} {trade[0]} {latin_form}"
        name_th = " ".join(p for p in (thai_prefix, f"{town_th}{trade[1]}", thai_suffix) if p)
        account = province["code"] + "".join(rng.choice("0123456789") for _ in range(8))
        employer_id = make_id("employer", index)
        writer.add(
            Employer,
            id=employer_id,
            office=f"{province['prefix']}-01",
            name=name,
            name_th=name_th,
            sso_account=account,
            sso_branch="000000" if rng.random() < 0.85 else f"{rng.randint(1, 5):06d}",
            province_code=province["code"],
            district=district[0],
            address=f"{rng.randint(1, 299)} {district[1]} {province['name'][1]}",
            contact_name=None,
            phone=f"0{rng.choice('5689')}{rng.randint(10_000_000, 99_999_999)}",
        )
        out.append(_Employer(employer_id, province, trade, district))
    return out


def _weighted(rng: random.Random, weights: Mapping[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def pink_card_number(rng: random.Random, *, valid: bool = True) -> str:
    """A 13-digit non-Thai registry number beginning ``00`` (check digit right unless not)."""
    first12 = "00" + "".join(rng.choice("0123456789") for _ in range(10))
    check = ids.thai_id_check_digit(first12)
    return first12 + str(check if valid else (check + rng.randint(1, 9)) % 10)


def _name_parts(rng: random.Random, nationality: str, sex: str, age: int) -> list[dict[str, Any]]:
    """The person's names: native script, passport Latin, Thai transliteration."""
    data = _load("names.yaml")
    if nationality == "MMR":
        burmese = data["burmese"]
        pool = _parts(burmese["male" if sex == "M" else "female"]) + _parts(burmese["shared"])
        syllables = [rng.choice(pool) for _ in range(rng.choice((1, 2, 2, 2, 3)))]
        if sex == "M":
            key = "male_older" if age >= 45 else ("male_young" if age < 25 else "male_adult")
        else:
            key = "female_older" if age >= 40 else "female_adult"
        honorific = tuple(burmese["honorifics"][key])
        native = "".join(s[0] for s in syllables)
        if rng.random() < 0.8:
            native = honorific[0] + native
        latin = " ".join(s[1] for s in syllables).upper()
        thai = "".join(s[2] for s in syllables)
        if len(syllables) == 1:  # one-syllable names usually keep the honorific on documents
            latin = f"{honorific[1].upper()} {latin}"
            thai = honorific[2] + thai
        return [
            {"kind": "native", "full_name": native},
            {"kind": "passport", "full_name": latin},
            {"kind": "thai", "full_name": thai},
        ]
    group = {"KHM": "khmer", "LAO": "lao", "VNM": "vietnamese"}[nationality]
    parts = data[group]
    family = rng.choice(_parts(parts["family"]))
    given = rng.choice(_parts(parts["male" if sex == "M" else "female"]))
    if group == "vietnamese":
        middle = rng.choice(_parts(parts["middle_male" if sex == "M" else "middle_female"]))
        order: list[Part] = [family, middle, given]
    elif group == "khmer":
        order = [family, given]
    else:
        order = [given, family]
    native = " ".join(p[0] for p in order)
    return [
        {"kind": "native", "full_name": native, "given": given[0], "family": family[0]},
        {
            "kind": "passport",
            "full_name": " ".join(p[1] for p in order).upper(),
            "given": given[1].upper(),
            "family": family[1].upper(),
        },
        {"kind": "thai", "full_name": " ".join(p[2] for p in order)},
    ]


def _documents(
    rng: random.Random, nationality: str, province_code: str, today: dt.date
) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    issued = today - dt.timedelta(days=rng.randint(30, 4 * 365))

    def passport(prefix: str, digits: int) -> None:
        number = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
        docs.append(
            {
                "kind": "passport",
                "number": number,
                "issuing_country": nationality,
                "issued_on": issued,
                "expires_on": issued + dt.timedelta(days=5 * 365),
            }
        )

    roll = rng.random()
    if nationality == "MMR":
        if roll < 0.5:
            docs.append(
                {"kind": "pink_card", "number": pink_card_number(rng, valid=rng.random() > 0.05)}
            )
        elif roll < 0.8:
            passport("M" + rng.choice("ABCDE"), 6)
        else:
            ci = rng.choice("ABCDEFGH") + rng.choice("ABCDEFGH") + str(rng.randint(100000, 999999))
            docs.append({"kind": "ci", "number": ci, "issuing_country": "MMR", "issued_on": issued})
    elif nationality == "KHM":
        if roll < 0.3:
            docs.append({"kind": "pink_card", "number": pink_card_number(rng)})
        else:
            passport("N", 8)
    elif nationality == "LAO":
        passport("P", 7)
    else:
        passport("C", 7)
    if rng.random() < 0.8:
        permit = "WP" + "".join(rng.choice("0123456789") for _ in range(11))
        docs.append({"kind": "work_permit", "number": permit, "issued_on": issued})
    if rng.random() < 0.1:
        border = province_code + "BP" + str(rng.randint(100000, 999999))
        docs.append({"kind": "border_pass", "number": border, "issuing_country": "THA"})
    return docs


def _months_back(today: dt.date, count: int) -> list[str]:
    year, month = today.year, today.month
    out: list[str] = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(f"{year:04d}-{month:02d}")
    return list(reversed(out))


# Marital status of the demo people from 25 on (younger: single 60, married 40).
_OLDER_MARITAL = {"single": 25, "married": 65, "widowed": 5, "divorced": 5}


def _title_and_marital(rng: random.Random, sex: str, age: int) -> tuple[str | None, str | None]:
    """A title and marital status that fit the person's sex and age, some not recorded (as
    on real lists). A woman's title is hers to choose: mostly Mrs once married, sometimes
    still Miss. Drawn from the person's own generator, so adding them moved no other
    detail of the demo data."""
    marital: str | None = None
    if rng.random() >= 0.15:
        weights = {"single": 60, "married": 40} if age < 25 else _OLDER_MARITAL
        marital = _weighted(rng, weights)
    if rng.random() < 0.2:
        return None, marital
    if sex == "M":
        return "mr", marital
    wed = marital not in (None, "single")
    return ("mrs" if wed and rng.random() < 0.75 else "miss"), marital


def _person(
    writer: BulkWriter,
    rng: random.Random,
    make_id: _Ids,
    index: int,
    employers: Sequence[_Employer],
    today: dt.date,
    *,
    contributions: bool,
) -> str:
    employer = employers[rng.randrange(len(employers))]
    province = employer.province
    office = f"{province['prefix']}-01"
    nationality = _weighted(rng, province["origins"])
    sex = "M" if rng.random() < 0.55 else "F"
    age = rng.randint(18, 58)
    birth_year = today.year - age
    if rng.random() < 0.3:
        birth = f"{birth_year:04d}"  # year only, as on many documents
    else:
        birth = f"{birth_year:04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    person_id = make_id("person", index)
    title, marital = _title_and_marital(random.Random(f"{person_id}:title"), sex, age)
    languages = {"MMR": ["my"], "KHM": ["km"], "LAO": ["lo"], "VNM": ["vi"]}[nationality]
    writer.add(
        Person,
        id=person_id,
        office=office,
        sex=sex,
        title=title,
        marital_status=marital,
        birth_date=birth,
        nationality=nationality,
        languages=languages + (["th"] if rng.random() < 0.4 else []),
        preferred_language=languages[0] if languages[0] != "vi" else "th",
        phone=f"0{rng.choice('689')}{rng.randint(10_000_000, 99_999_999)}",
        line_id=None,
        address_th=f"{employer.district[1]} {province['name'][1]}",
        arrived_on=today - dt.timedelta(days=rng.randint(200, 3000)),
    )
    for n, name in enumerate(_name_parts(rng, nationality, sex, age)):
        full = text.clean(name["full_name"])
        honorific, _rest = names.split_honorific(full)
        writer.add(
            PersonName,
            id=make_id("person_name", index, n),
            office=office,
            person_id=person_id,
            script=str(text.dominant_script(full)),
            kind=name["kind"],
            full_name=full,
            given_name=name.get("given"),
            family_name=name.get("family"),
            honorific=str(honorific) if honorific else None,
        )
    for n, doc in enumerate(_documents(rng, nationality, str(province["code"]), today)):
        writer.add(
            IdentityDocument,
            id=make_id("document", index, n),
            office=office,
            person_id=person_id,
            status="current",
            **doc,
        )
    writer.add(
        Consent,
        id=make_id("consent", index),
        office=office,
        person_id=person_id,
        scope="data_processing",
        given=True,
        given_on=today - dt.timedelta(days=rng.randint(0, 400)),
        method=rng.choice(("verbal", "signed", "thumbprint")),
        recorded_by="demo",
    )
    _work(writer, rng, make_id, index, person_id, office, employer, today, contributions)
    return person_id


def _work(
    writer: BulkWriter,
    rng: random.Random,
    make_id: _Ids,
    index: int,
    person_id: str,
    office: str,
    employer: _Employer,
    today: dt.date,
    contributions: bool,
) -> None:
    months = _months_back(today, rng.randint(12, 60))
    wage = decimal.Decimal(rng.randrange(8_000, 16_000, 10))
    ended = rng.random() < 0.15
    # Drawn from the job's own generator, so that they moved no other detail: a newcomer
    # (a job begun weeks ago, not registered yet: no contributions, the enrollment to do),
    # or how many months ago a job that ended did.
    history = random.Random(f"{person_id}:job")
    newcomer = history.random() < NEWCOMERS
    started = dt.date.fromisoformat(months[0] + "-01")
    if newcomer:
        started, months, ended = today - dt.timedelta(days=history.randint(10, 80)), [], False
    elif ended:
        months = months[: len(months) - history.randint(0, min(9, len(months) - 12))]
    writer.add(
        Employment,
        id=make_id("employment", index),
        office=office,
        person_id=person_id,
        employer_id=employer.id,
        start_date=started,
        end_date=YearMonth.parse(months[-1]).last_day() if ended else None,
        monthly_wage=wage,
        occupation=employer.trade[2],
        section=33,
        end_reason=rng.choice(("laid_off", "resigned", "contract_ended")) if ended else None,
    )
    if newcomer:
        return
    gaps: set[int] = set()
    if rng.random() < 0.15:  # a few months the employer never paid for
        start = rng.randrange(len(months))
        gaps.update(range(start, min(start + rng.randint(1, 3), len(months))))
    unremitted: set[int] = set()
    if rng.random() < 0.15:  # deducted from the wage but not passed on to the SSO
        start = rng.randrange(len(months))
        unremitted.update(range(start, min(start + rng.randint(2, 6), len(months))))
    source = rng.choice(("sso_statement", "payslip", "employer"))
    if not contributions:
        return
    for n, month in enumerate(months):
        if n in gaps:
            continue
        writer.add(
            ContributionMonth,
            id=make_id("contribution", index, n),
            office=office,
            person_id=person_id,
            employer_id=employer.id,
            month=month,
            wage=wage,
            section=33,
            source=source,
            status="deducted_not_remitted" if n in unremitted else "paid",
        )


def _demo_steps(
    rng: random.Random, definition: workflow.TrackDef, handed_in: bool | None = None
) -> tuple[dict[str, StepProgress], bool]:
    """A demo track stopped at a random step, as the workflow would have it: the steps
    before it done (most decisions approved, some rejected and then appealed), that one in
    progress or waiting on the SSO (a claim's payment perhaps approved), the rest not
    started; and whether the track is over.
    ``handed_in`` True stops it past its filing step (decided), False at that step at the
    latest (in progress or waiting on the SSO); None anywhere."""
    filing = next(
        (n for n, step in enumerate(definition.steps) if workflow.is_filing(step)),
        len(definition.steps),
    )
    low, high = 0, len(definition.steps)
    if handed_in is True:
        low = min(filing + 1, high)
    elif handed_in is False:
        high = min(filing, high)
    reached = rng.randint(low, high)
    progress: dict[str, StepProgress] = {}
    passed = 0
    for step in definition.steps:
        state = StepState.NOT_STARTED
        if workflow.applies(step, progress):
            if passed < reached:
                state = _DONE_STATES[step.outcome]
                if step.outcome is not Outcome.NONE and rng.random() < 0.15:
                    state = StepState.REJECTED
            elif passed == reached:
                waiting = step.outcome is not Outcome.NONE and rng.random() < 0.5
                state = StepState.SUBMITTED if waiting else StepState.IN_PROGRESS
                if waiting and step.outcome is Outcome.PAYMENT and rng.random() < 0.4:
                    state = StepState.APPROVED  # approved, the money not collected yet
            passed += 1
        progress[step.key] = StepProgress(step.key, state)
    return progress, steps.finished(definition, progress)


def _claimant(case_id: str, person: Mapping[str, Any]) -> dict[str, str]:
    """Who claims after a demo worker's death, as the death claim's first step records it:
    a relative named in the worker's script with the Latin spelling beside it."""
    rng = random.Random(f"{case_id}:claimant")
    sex = "F" if person["sex"] == "M" else "M"
    parts = _name_parts(rng, str(person["nationality"]), sex, 40)
    names = {str(n["kind"]): text.clean(str(n["full_name"])) for n in parts}
    return {
        "claimant_is": rng.choice(("funeral_organiser", "heir")),
        "claimant_name": f"{names['native']} ({names['passport']})",
        "claimant_relationship": rng.choice(("spouse", "parent", "sibling", "child")),
    }


def _step_data(
    step: workflow.StepDef,
    state: StepState,
    finished: bool,
    opened: dt.date,
    today: dt.date,
    timing: random.Random,
    claimant: Mapping[str, str],
) -> dict[str, Any]:
    """What a demo step holds: the forms it printed once done; what came of a work injury
    (now and then a death); the claimant, on a step that asks who claims (a death claim,
    a work injury that killed the worker); a filing step handed in, the day it was (days
    after the track opened); a claim approved and not yet paid, most often the day the
    SSO's payment notice came (its two years to collect run from it)."""
    data: dict[str, Any] = {"forms_printed": list(step.forms)} if step.forms and finished else {}
    fields = {f.name: f for f in step.fields}
    names = set(fields)
    if state is not StepState.NOT_STARTED:
        if cases.INJURY_OUTCOME in names:  # one work injury in twenty killed the worker
            data[cases.INJURY_OUTCOME] = "died" if timing.random() < 0.05 else "injured"
        asked = fields.get("claimant_name")
        if asked is not None and workflow.holds(asked.when, data):
            data.update(claimant)
    if workflow.is_filing(step) and state in workflow.FILED and "submitted_on" in names:
        submitted = min(opened + dt.timedelta(days=timing.randint(3, 20)), today)
        data["submitted_on"] = submitted.isoformat()
        announced = state is StepState.APPROVED and cases.PAYMENT_NOTIFIED in names
        if announced and timing.random() < 0.7:
            notice = min(submitted + dt.timedelta(days=timing.randint(15, 45)), today)
            data[cases.PAYMENT_NOTIFIED] = notice.isoformat()
    return data


_DONE_STATES = {
    Outcome.NONE: StepState.READY,
    Outcome.DECISION: StepState.APPROVED,
    Outcome.PAYMENT: StepState.PAID,
}


def _case(
    writer: BulkWriter,
    session: Session,
    rng: random.Random,
    make_id: _Ids,
    index: int,
    person_id: str,
    today: dt.date,
    store: Store,
    reserved: dict[str, list[str]],
) -> int:
    """One case with an enrollment track and 0-2 claim tracks; returns the track count.

    ``reserved`` holds case numbers reserved per prefix in blocks of 200 (one write each).
    """
    person = writer.rows[Person][-1]
    office = str(person["office"])
    prefix = office.split("-", 1)[0]
    flows = _load("tracks.yaml")
    case_id = make_id("case", index)
    started: dt.date = writer.rows[Employment][-1]["start_date"]
    newcomer = (today - started).days < HANDED_IN_AFTER_DAYS
    tracks = [("enrollment", None)]
    for _ in range(rng.choices((0, 1, 2), weights=(50, 40, 10))[0]):
        if not newcomer:  # no contributions yet: nothing to claim from the Fund
            tracks.append(("claim", rng.choice(flows["claims"]["benefits"])))
    # when each track was opened, from the case's own generator (no other detail moved):
    # an enrollment days after the job began, a claim in the last two years but not
    # before the job
    timing = random.Random(f"{case_id}:timing")
    all_done, opened_on = True, []
    for t, (kind, benefit) in enumerate(tracks):
        if kind == "enrollment":
            key = rng.choice(flows["enrollment"]["workflows"])
            opened = started + dt.timedelta(days=timing.randint(0, min(25, (today - started).days)))
        else:
            key = "work_injury" if benefit == "work_injury" else f"claim_{benefit}"
            opened = max(today - dt.timedelta(days=timing.randint(0, 700)), started)
        definition = workflow.track(key)
        rows, done = _demo_steps(rng, definition, (today - opened).days > HANDED_IN_AFTER_DAYS)
        all_done = all_done and done
        opened_on.append(opened)
        track_id = make_id("track", index, t)
        writer.add(
            Track,
            id=track_id,
            office=office,
            case_id=case_id,
            kind=definition.kind,
            benefit=benefit,
            path=definition.document_path,
            workflow=key,
            state="closed" if done else "in_progress",
            # the event days before the claim was opened, not before the job began
            event_date=max(opened - dt.timedelta(days=rng.randint(1, 60)), started)
            if benefit
            else None,
            opened_on=opened,
            decided_on=min(opened + dt.timedelta(days=rng.randint(20, 90)), today)
            if done
            else None,
            outcome=steps.outcome(definition, rows) if done else None,
        )
        collected: set[str] = set()
        asks_claimant = any(f.name == "claimant_name" for s in definition.steps for f in s.fields)
        claimant = _claimant(case_id, person) if asks_claimant else {}
        for position, step in enumerate(definition.steps):
            progress = rows[step.key]
            finished_step = workflow.is_done(step, progress.state)
            if finished_step:
                collected.update(step.documents)
            writer.add(
                Step,
                id=make_id("step", index, t, position),
                office=office,
                track_id=track_id,
                key=step.key,
                position=position,
                state=progress.state.value,
                data=_step_data(
                    step,
                    progress.state,
                    finished_step,
                    opened,
                    today,
                    timing,
                    claimant,
                ),
            )
        checklist: dict[str, bool] = {}  # doc key: required
        for s in definition.steps:
            if s.when is None:  # demo steps choose nothing: conditional documents are not asked
                needed = workflow.needed_documents(s, {})
                for d in (*needed, *workflow.needed_documents(s, {}, optional=True)):
                    checklist[d] = checklist.get(d, False) or d in needed
        for n, (doc_key, required) in enumerate(checklist.items()):
            present = done or doc_key in collected or rng.random() < 0.5
            writer.add(
                ChecklistItem,
                id=make_id("checklist", index, t, n),
                office=office,
                track_id=track_id,
                doc_key=doc_key,
                required=required,
                status="present" if present else "missing",
                attachment_ids=[],
            )
    numbers = reserved.setdefault(prefix, [])
    if not numbers:
        numbers.extend(reversed(case_numbers.reserve(session, prefix, store.device_id, 200)))
    number = numbers.pop()
    writer.add(
        Case,
        id=case_id,
        office=office,
        person_id=person_id,
        number=number,
        owner="demo",
        province_code=next(
            str(p["code"]) for p in _load("places.yaml")["provinces"] if p["prefix"] == prefix
        ),
        status="closed" if all_done else "open",
        opened_on=min(opened_on),
        closed_on=min(max(opened_on) + dt.timedelta(days=rng.randint(30, 120)), today)
        if all_done
        else None,
    )
    if rng.random() < 0.3:
        writer.add(
            Note,
            id=make_id("note", index),
            office=office,
            case_id=case_id,
            person_id=person_id,
            body=rng.choice(flows["notes"]),
            author="demo",
            written_at=dt.datetime.combine(max(opened_on), dt.time(9, 30), dt.UTC).isoformat(),
        )
    return len(tracks)
