"""Demo cases for forms and packets: a Burmese, a Khmer, a Lao and a Thai worker.

Used by the tests, ``bench/forms.py`` and the PNG previews in ``docs/forms``. All people,
employers and numbers are invented; ID numbers carry a valid check digit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal

from desktop.forms.data import (
    BankAccount,
    Benefit,
    CaseData,
    ChecklistItem,
    Claimant,
    Complaint,
    Employer,
    Employment,
    Evidence,
    Injury,
    Name,
    Office,
    Person,
)


def with_check_digit(first12: str) -> str:
    """A 13-digit Thai ID: the 12 digits given plus their check digit (domain.md §1.4)."""
    total = sum(int(d) * w for d, w in zip(first12, range(13, 1, -1), strict=True))
    return first12 + str((11 - total % 11) % 10)


ALL_FORMS = ("sps1_03", "sps2_01", "sps6_09", "sps1_20", "kt16", "complaint")

EMPLOYER = Employer(
    name="บริษัท แม่สอด การ์เมนท์ จำกัด (Mae Sot Garment Co., Ltd.)",
    account="6300012345",
    branch="000000",
    province="ตาก",
    sso_province_code="63",
    sso_branch_code="01",
    address="99/9 หมู่ 2 ถนนอินทรคีรี ตำบลแม่สอด อำเภอแม่สอด จังหวัดตาก 63110",
    phone="055-000-000",
)
OFFICE = Office(
    name="สำนักงานประกันสังคมจังหวัดตาก สาขาแม่สอด",
    address="ถนนอินทรคีรี อำเภอแม่สอด จังหวัดตาก 63110",
    phone="1506",
    hours="08:30-16:30",
)


def _checklist(missing: tuple[str, ...]) -> tuple[ChecklistItem, ...]:
    docs = (
        "form.doc.claim_form",
        "form.doc.id_copy",
        "form.doc.medical_certificate",
        "form.doc.passbook",
    )
    return tuple(ChecklistItem(d, d not in missing) for d in docs)


def burmese_case() -> CaseData:
    person = Person(
        names=(
            Name("my", "မောင်ကျော်ဇင်ထွန်း"),
            Name("latin", "Maung Kyaw Zin Htun"),
            Name("th", "หม่อง จ่อ ซิน ทุน"),
        ),
        language="my",
        title="mr",
        national_id=with_check_digit("000163123456"),
        id_type="pink_card",
        passport="MC123456",
        work_permit="WP-63-0012345",
        birth_date=dt.date(1994, 7, 2),
        nationality="MMR",
        sex="M",
        marital_status="married",
        address="12 หมู่ 3 ตำบลท่าสายลวด อำเภอแม่สอด จังหวัดตาก",
        phone="08-1234-5678",
        hospitals=("1234567", "7654321"),
    )
    return CaseData(
        case_id=uuid.UUID("0b8f6c1e-4d2a-4c53-9a61-2f3e1d0c9b71"),
        case_number="TAK-2026-00042",
        person=person,
        packet_version=3,
        employer=EMPLOYER,
        employment=Employment(
            start_date=dt.date(2024, 2, 1),
            monthly_wage=Decimal("9600"),
            position="ช่างเย็บผ้า (sewing)",
        ),
        benefit=Benefit(
            kind="sickness",
            event_date=dt.date(2026, 2, 20),
            filing_deadline=dt.date(2027, 2, 20),
            section=33,
        ),
        office=OFFICE,
        checklist=_checklist(("form.doc.passbook",)),
        bank=BankAccount(bank="ธนาคารกรุงไทย", branch="แม่สอด", account_number="", account_name=""),
        forms=("sps2_01",),
        caseworker="Naw Eh Htoo",
        organisation="Sapan Mae Sot",
        printed_on=dt.date(2026, 3, 15),
    )


def khmer_case() -> CaseData:
    person = Person(
        names=(
            Name("km", "សុខា", "ចាន់"),
            Name("latin", "Sokha", "Chan"),
            Name("th", "ซกคา", "จัน"),
        ),
        language="km",
        title="miss",
        national_id=with_check_digit("000271234567"),
        id_type="pink_card",
        birth_date=dt.date(1998, 11, 23),
        nationality="KHM",
        sex="F",
        address="45 ตำบลคลองใหญ่ อำเภอคลองใหญ่ จังหวัดตราด",
        phone="09-8765-4321",
    )
    return CaseData(
        case_id=uuid.UUID("5a1d2c3b-7e8f-4a9b-8c0d-1e2f3a4b5c6d"),
        case_number="TRT-2026-00007",
        person=person,
        packet_version=1,
        employer=Employer(
            name="ห้างหุ้นส่วน คลองใหญ่ซีฟู้ด (Khlong Yai Seafood)",
            account="",
            province="ตราด",
            sso_province_code="23",
            address="1 ถนนชายทะเล อำเภอคลองใหญ่ จังหวัดตราด",
        ),
        employment=Employment(start_date=dt.date(2025, 5, 1), monthly_wage=Decimal("10500")),
        benefit=Benefit(kind="maternity", event_date=dt.date(2026, 1, 9), section=33),
        office=Office(name="สำนักงานประกันสังคมจังหวัดตราด", phone="1506"),
        checklist=_checklist(("form.doc.medical_certificate",)),
        complaint=Complaint(
            kind="not_registered",
            period_from=dt.date(2025, 5, 1),
            details="นายจ้างหักเงินค่าประกันสังคมทุกเดือนแต่ไม่มีบัตรรับรองสิทธิ និយោជកកាត់ប្រាក់រៀងរាល់ខែ",
            evidence=(
                Evidence("Pay slips May 2025 - Jan 2026 / สลิปเงินเดือน", 9),
                Evidence("Photo of work-site time card / บัตรตอกเวลา", 2),
                Evidence("Letter from co-worker (ស្លិប)", 1),
            ),
        ),
        forms=("sps1_03", "complaint"),
        printed_on=dt.date(2026, 3, 15),
    )


def lao_case() -> CaseData:
    person = Person(
        names=(
            Name("lo", "ບຸນມີ", "ສີສຸວັນ"),
            Name("latin", "Bounmy", "Sisouvanh"),
            Name("th", "บุญมี", "สีสุวรรณ"),
        ),
        language="lo",
        title="mr",
        national_id=with_check_digit("000381234561"),
        birth_date=dt.date(1990, 3, 14),
        nationality="LAO",
        sex="M",
        address="8 ถนนมิตรภาพ ตำบลในเมือง อำเภอเมือง จังหวัดหนองคาย",
    )
    return CaseData(
        case_id=uuid.UUID("9c8b7a69-5847-4362-a1b0-c9d8e7f6a5b4"),
        case_number="NKI-2026-00113",
        person=person,
        packet_version=2,
        employer=Employer(
            name="บริษัท หนองคาย โลจิสติกส์ จำกัด",
            account="4300054321",
            branch="000000",
            province="หนองคาย",
            sso_province_code="43",
            address="200 ถนนมิตรภาพ อำเภอเมือง จังหวัดหนองคาย 43000",
            phone="042-000-000",
        ),
        employment=Employment(
            start_date=dt.date(2023, 8, 15),
            end_date=dt.date(2026, 1, 31),
            monthly_wage=Decimal("18200"),
            position="คนขับรถยก (forklift)",
            leave_reason="dismissed",
        ),
        benefit=Benefit(
            kind="wcf",
            event_date=dt.date(2026, 1, 12),
            filing_deadline=dt.date(2026, 7, 11),
        ),
        office=Office(
            name="สำนักงานประกันสังคมจังหวัดหนองคาย",
            address="ถนนประจักษ์ศิลปาคม อำเภอเมือง จังหวัดหนองคาย",
            phone="1506",
            hours="08:30-16:30",
        ),
        checklist=(
            ChecklistItem("form.doc.kt16", True),
            ChecklistItem("form.doc.medical_certificate", True),
            ChecklistItem("form.doc.receipts", False),
            ChecklistItem("form.doc.work_evidence", False),
        ),
        injury=Injury(
            occurred_at=dt.datetime(2026, 1, 12, 14, 30),
            place="คลังสินค้า อาคาร 2 ของบริษัท",
            description=(
                "ขณะถอยรถยกเพื่อจัดวางพาเลทสินค้าในคลังสินค้า พาเลทที่วางซ้อนอยู่ด้านบนล้มลง"
                "ทับเท้าขวาของลูกจ้าง เพื่อนร่วมงานสองคนช่วยยกพาเลทออกและนำส่งโรงพยาบาล"
                " ເກີດອຸບັດຕິເຫດໃນສາງສິນຄ້າ ພາເລດລົ້ມທັບຕີນຂວາ"
            ),
            injury="กระดูกเท้าขวาหัก (right foot fracture)",
            treatment_facility="โรงพยาบาลหนองคาย",
            employer_learned_date=dt.date(2026, 1, 12),
            witnesses=("นายสมศักดิ์ ใจดี", "Mr Khamphone Vongsa"),
            referral_kt44=True,
        ),
        forms=("kt16", "sps6_09", "sps1_20"),
        caseworker="Khamla P.",
        organisation="Sapan Nong Khai",
        printed_on=dt.date(2026, 3, 15),
    )


def death_case() -> CaseData:
    """The Khmer sample's worker has died; her mother, who arranged the funeral, claims
    (the SSO 2-01's claimant section)."""
    base = khmer_case()
    return dataclasses.replace(
        base,
        case_number="SKW-2026-00088",
        benefit=Benefit(
            kind="death",
            event_date=dt.date(2026, 2, 2),
            filing_deadline=dt.date(2028, 2, 2),
            section=33,
        ),
        claimant=Claimant(
            name="ចាន់ ស្រីពៅ (Chan Srey Pov)",
            claims_as="funeral_organiser",
            relationship="parent",
            id_number="N01234567",
            phone="09-8765-4321",
        ),
        forms=("sps2_01",),
    )


def thai_case() -> CaseData:
    person = Person(
        names=(Name("th", "สมหญิง", "ใจงาม"), Name("latin", "Somying", "Jaingam")),
        language="th",
        title="mrs",
        national_id=with_check_digit("350010012345"),
        sso_number=with_check_digit("350010012345"),
        birth_date=dt.date(1985, 12, 1),
        nationality="THA",
        sex="F",
        marital_status="married",
        address="77 หมู่ 5 ตำบลเวียงพางคำ อำเภอแม่สาย จังหวัดเชียงราย 57130",
        phone="08-9999-0000",
    )
    return CaseData(
        case_id=uuid.UUID("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"),
        case_number="CRI-2026-00301",
        person=person,
        packet_version=1,
        employer=Employer(
            name="ร้านแม่สายการค้า",
            account="5700098765",
            branch="000000",
            province="เชียงราย",
            sso_province_code="57",
        ),
        employment=Employment(
            start_date=dt.date(2019, 6, 1),
            end_date=dt.date(2026, 2, 28),
            monthly_wage=Decimal("15000"),
            leave_reason="resigned",
        ),
        benefit=Benefit(kind="unemployment", event_date=dt.date(2026, 2, 28), section=33),
        office=Office(name="สำนักงานประกันสังคมจังหวัดเชียงราย สาขาแม่สาย", phone="1506"),
        checklist=_checklist(()),
        bank=BankAccount(
            bank="ธนาคารออมสิน",
            branch="แม่สาย",
            account_number="020-1-23456-7",
            account_name="สมหญิง ใจงาม",
        ),
        forms=("sps2_01", "sps1_20"),
        printed_on=dt.date(2026, 3, 15),
    )


def demo_cases() -> tuple[CaseData, ...]:
    """One case per language the packets are checked in: Burmese, Khmer, Lao, Thai."""
    return (burmese_case(), khmer_case(), lao_case(), thai_case())
