"""The receipt's text and file (counter_tui.receipt): time limits, masked ID numbers only,
an atomic write, rare characters kept. Every person is synthetic."""

from __future__ import annotations

import os
import stat
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from counter_tui import receipt
from counter_tui.receipt import (
    HOTLINE,
    NEXT_STEPS,
    receipt_path,
    receipt_text,
    save_receipt,
    scrub,
)
from jiuzhutong.contract import (
    ApplyMode,
    DraftOut,
    DraftStatus,
    Entrustment,
    Gender,
    MemberOut,
    PersonDetails,
    Relation,
)
from jiuzhutong.contract.authorization import CaseOut, CaseStatus, TimelineEntry
from jiuzhutong.domain.idnumber import make_id_number, mask_id_number

AT = datetime(2025, 3, 5, 2, 30, 15, tzinfo=UTC)  # 10:30:15 in China
APPLICANT_ID = make_id_number("420106", date(1950, 2, 2), 13)
SPOUSE_ID = make_id_number("420106", date(1952, 3, 3), 22)
CHILD_ID = make_id_number("420106", date(2015, 6, 1), 35)


def _person(pid: str, name: str, relation: Relation, number: str, counted: bool = True):  # type: ignore[no-untyped-def]
    return MemberOut(
        id=pid,
        relation=relation,
        name=name,
        id_number=number,
        id_revealed="*" not in number,
        birth_date=date(1950, 2, 2),
        age=75,
        gender=Gender.male,
        division_code="420106",
        division_name="湖北省武汉市武昌区",
        details=PersonDetails(hukou_division="420106001001", hukou_type="城镇"),
        counted=counted,
        count_reason="",
    )


def _draft(name: str = "测试居民甲", number: str = APPLICANT_ID, **kw) -> DraftOut:  # type: ignore[no-untyped-def]
    members = kw.pop(
        "members",
        [
            _person("p-1", "吉𠮷", Relation.spouse, SPOUSE_ID),
            _person("p-2", "王䶮", Relation.child, mask_id_number(CHILD_ID), counted=False),
        ],
    )
    return DraftOut(
        id="d-1",
        version=9,
        status=DraftStatus.draft,
        region="420106",
        mode=kw.pop("mode", ApplyMode.in_person),
        entrustment=kw.pop("entrustment", None),
        applicant=_person("p-0", name, Relation.applicant, number),
        members=members,
        household_size=1 + sum(m.counted for m in members),
        notice_version="v1",
        step="submit",
        created_by="staff-1",
        counter_id="counter-1",
        created_at=AT,
        updated_at=AT,
    )


CASE = CaseOut(
    application_id="d-1",
    case_number="420106-2025-000042",
    status=CaseStatus.submitted,
    submitted_at=AT,
    timeline=[TimelineEntry(at=AT, status="已提交", note="提交申请，已受理")],
)


def test_receipt_has_the_case_the_time_and_every_time_limit() -> None:
    text = receipt_text(CASE, _draft(), clerk="示例经办人", counter_id="counter-1")
    lines = text.splitlines()
    assert lines[0] == "湖北省最低生活保障申请受理回执"
    assert "案件编号：420106-2025-000042" in lines
    assert "提交时间：2025-03-05 10:30:15" in lines  # China time, whatever the machine's
    assert "办理状态：已提交（已受理）" in lines
    assert f"申请人：测试居民甲（身份证号 {mask_id_number(APPLICANT_ID)}）" in lines
    assert "计入家庭人口：2 人" in lines
    assert "受理窗口：经办人 示例经办人　窗口 counter-1" in lines
    for step in NEXT_STEPS:
        assert f"{step.what}：{step.limit}" in text
    # The limits of DOMAIN.md, in working days (the 公示 in days, as Art 19 counts it).
    for phrase in (
        "受理后 3 个工作日内",
        "县级民政部门启动家庭经济状况信息核对：3 个工作日内",
        "公示期 7 天",
        "10 个工作日内",
        "作出决定后 3 个工作日内",
        "30 个工作日内",
        "20 个工作日",
        "45 个工作日",
        "自批准的次月起",
    ):
        assert phrase in text, phrase
    assert f"民政服务热线 {HOTLINE}" in text and HOTLINE == "12349"
    assert "行政复议" in text and "行政诉讼" in text
    assert text.endswith("\n")


def test_receipt_shows_masked_id_numbers_only() -> None:
    e = Entrustment(
        entrusting_name="测试委托人",
        entrusting_id_number=make_id_number("420106", date(1980, 1, 1), 7),
        resident_name="测试居民甲",
        clerk_staff_id="staff-1",
        counter_id="counter-1",
        entrusted_at=AT,
    )
    draft = _draft(mode=ApplyMode.entrusted, entrustment=e)
    # Even a full number where a name would be is masked by the last pass.
    draft.applicant.details.apply_reason = f"见 {SPOUSE_ID}"
    text = receipt_text(CASE, draft) + scrub(f"备注 {CHILD_ID} 与 {CHILD_ID[:15]}")
    for full in (APPLICANT_ID, SPOUSE_ID, CHILD_ID, e.entrusting_id_number, CHILD_ID[:15]):
        assert full not in text
    assert mask_id_number(APPLICANT_ID) in text
    assert mask_id_number(SPOUSE_ID) in text
    assert mask_id_number(CHILD_ID) in text
    assert f"委托办理：测试委托人（{mask_id_number(e.entrusting_id_number)}）委托" in text
    assert "420106-2025-000042" in text  # the case number is no ID number


def test_rare_characters_survive_text_and_file(tmp_path: Path) -> None:
    text = receipt_text(CASE, _draft(name="𠮷䶮"))
    assert "申请人：𠮷䶮（" in text
    assert "  吉𠮷　配偶　" in text and "  王䶮　子女　" in text
    path = save_receipt(tmp_path / "receipts", CASE.case_number, text)
    assert path == tmp_path / "receipts" / "420106-2025-000042.txt"
    assert path.read_bytes().decode("utf-8") == text
    assert "𠮷".encode() in path.read_bytes()  # UTF-8 (4 bytes), not a replacement


def test_save_is_atomic_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "data" / "receipts"
    first = save_receipt(directory, CASE.case_number, "第一版\n")
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700

    # The new text goes to a temporary file in the same directory, then os.replace: a
    # failure before the rename leaves the old receipt whole and no temporary file behind.
    calls: list[tuple[str, str]] = []
    real_replace = os.replace

    def failing_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        assert Path(src).parent == directory and Path(src).read_text("utf-8") == "第二版\n"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(receipt.os, "replace", failing_replace)
    with pytest.raises(OSError):
        save_receipt(directory, CASE.case_number, "第二版\n")
    assert len(calls) == 1 and calls[0][1] == str(first)
    assert first.read_text("utf-8") == "第一版\n"
    assert sorted(p.name for p in directory.iterdir()) == [first.name]

    monkeypatch.setattr(receipt.os, "replace", real_replace)
    again = save_receipt(directory, CASE.case_number, "第二版\n")
    assert again == first and first.read_text("utf-8") == "第二版\n"
    assert sorted(p.name for p in directory.iterdir()) == [first.name]


def test_file_name_stays_in_the_directory(tmp_path: Path) -> None:
    assert receipt_path(tmp_path, "../../etc/passwd").parent == tmp_path
    assert receipt_path(tmp_path, "../../etc/passwd").name == "______etc_passwd.txt"


def test_time_is_shown_in_the_given_zone() -> None:
    text = receipt_text(CASE, _draft(), tz=timezone(timedelta(hours=0)))
    assert "提交时间：2025-03-05 02:30:15" in text
