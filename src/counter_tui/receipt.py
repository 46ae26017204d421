"""The receipt (受理回执) of a submitted application: its text and its file.

Pure functions, no screen: ``receipt_text`` turns the CaseOut the server answered and the
draft that was submitted into plain text a hall can print; ``save_receipt`` writes it to
``<data dir>/receipts/<case number>.txt`` atomically (a temporary file in the same directory,
then ``os.replace``), so a crash never leaves half a receipt behind.

What happens after 提交 and its time limits live here, in one place (DOMAIN.md, from
民政部《最低生活保障审核确认办法》Art 15–22, 24; the hotline 12349). Every ID number on the
receipt is masked: the server sends masked numbers, they are masked again here if not, and
a last pass masks anything that still looks like a full ID number.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from pathlib import Path

from jiuzhutong.contract import ApplyMode, DraftOut, MemberOut
from jiuzhutong.contract.authorization import CaseOut
from jiuzhutong.domain.idnumber import mask_id_number

RECEIPTS_DIR = "receipts"
TITLE = "湖北省最低生活保障申请受理回执"
HOTLINE = "12349"
CHINA_TZ = timezone(timedelta(hours=8), "北京时间")


@dataclass(frozen=True)
class TimeLimit:
    """One step after 提交 and how long it may take."""

    what: str
    limit: str


# What happens next, in order. Working days (工作日) except the 7-day 公示, which the
# regulation (Art 19) counts in days.
NEXT_STEPS: tuple[TimeLimit, ...] = (
    TimeLimit("乡镇（街道）启动调查核实（入户调查）", "受理后 3 个工作日内"),
    TimeLimit("县级民政部门启动家庭经济状况信息核对", "3 个工作日内"),
    TimeLimit("乡镇（街道）初审意见在村（社区）公示", "公示期 7 天"),
    TimeLimit("县级民政部门作出审核确认决定", "收到初审材料后 10 个工作日内"),
    TimeLimit("不予批准的，书面告知申请人并说明理由", "作出决定后 3 个工作日内"),
    TimeLimit(
        "审核确认全部完成",
        "受理后 30 个工作日内（委托乡镇（街道）审核确认的 20 个工作日；"
        "特殊情况可延长至 45 个工作日）",
    ),
    TimeLimit("批准后发放最低生活保障金", "自批准的次月起"),
)

NOTES: tuple[str, ...] = (
    "进度查询：凭案件编号在“湖北救助通”小程序【我的办件】查询救助申请—救助审核—救助确认各环节。",
    "批准后仅公布户主姓名、保障人数和保障金额。",
    f"咨询、投诉：民政服务热线 {HOTLINE}。",
    "对审核确认结果不服的，可依法申请行政复议或提起行政诉讼。",
)

# An 18-character ID number (or a 15-digit old one) standing on its own.
_FULL_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_-]")


def masked(number: str) -> str:
    """An ID number for the receipt: masked unless the server already masked it."""
    return number if "*" in number else mask_id_number(number)


def scrub(text: str) -> str:
    """Mask anything in ``text`` that still looks like a full ID number."""
    return _FULL_ID.sub(lambda m: mask_id_number(m.group(1)), text)


def next_steps_lines() -> list[str]:
    """后续办理, numbered, as both the screen and the file show it."""
    return [f"{i}. {s.what}：{s.limit}" for i, s in enumerate(NEXT_STEPS, 1)]


def _member_line(m: MemberOut) -> str:
    counted = "计入" if m.counted else "不计入"
    return f"  {m.name}　{m.relation.value}　{masked(m.id_number)}　{counted}家庭人口"


def receipt_text(
    case: CaseOut,
    draft: DraftOut,
    *,
    tz: tzinfo = CHINA_TZ,
    division_name: str | None = None,
    clerk: str | None = None,
    counter_id: str | None = None,
) -> str:
    """The receipt as UTF-8-ready text, one line per fact, ending in a newline."""
    a = draft.applicant
    submitted = case.submitted_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
    lines = [
        TITLE,
        "",
        f"案件编号：{case.case_number}",
        f"提交时间：{submitted}",
        f"办理状态：{case.status.value}（已受理）",
        f"申请人：{a.name}（身份证号 {masked(a.id_number)}）",
    ]
    hukou = a.details.hukou_division
    if division_name or hukou:
        where = division_name or ""
        if hukou and hukou not in where:
            where = f"{where}（{hukou}）" if where else hukou
        lines.append(f"户籍所在地：{where}")
    if draft.mode == ApplyMode.entrusted and draft.entrustment is not None:
        e = draft.entrustment
        lines.append(f"委托办理：{e.entrusting_name}（{masked(e.entrusting_id_number)}）委托")
    lines.append(f"计入家庭人口：{draft.household_size} 人")
    if draft.members:
        lines.append("家庭成员：")
        lines.extend(_member_line(m) for m in draft.members)
    else:
        lines.append("家庭成员：无（单人户）")
    if clerk or counter_id:
        parts = [p for p in (clerk and f"经办人 {clerk}", counter_id and f"窗口 {counter_id}") if p]
        lines.append(f"受理窗口：{'　'.join(parts)}")
    lines += ["", "后续办理及时限："]
    lines.extend(f"  {line}" for line in next_steps_lines())
    lines += ["", "说明："]
    lines.extend(f"  {note}" for note in NOTES)
    lines += ["", "本回执由湖北救助通柜台终端生成，请妥善保管。", ""]
    return scrub("\n".join(lines))


def receipt_path(directory: Path, case_number: str) -> Path:
    """``<directory>/<case number>.txt``; anything but letters, digits, - and _ becomes _."""
    name = _SAFE_NAME.sub("_", case_number) or "receipt"
    return Path(directory) / f"{name}.txt"


def save_receipt(directory: Path, case_number: str, text: str) -> Path:
    """Write the receipt atomically and return its path (an older copy is replaced).

    The file holds names: it is made readable by the owner only (0600, directory 0700),
    like the outbox."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = receipt_path(directory, case_number)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(scrub(text).encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a power cut
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return target
