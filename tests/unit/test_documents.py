from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
import unicodedata

import pytest

from jiuzhutong.documents import (
    CURRENT_NOTICE_VERSION,
    NOTICE_VERSIONS,
    Document,
    current_notice,
    get_notice,
)
from jiuzhutong.documents import notice as notice_module

# A published version never changes: editing notice_v1.txt must fail here. Add notice_v2.txt
# and a new version instead, and pin its hash below.
PINNED = {
    "v1": "3628e492b25e25f52287dba8755c9ec2947e5c4558e748104a508d741750d840",
}

TITLE = "湖北省申请最低生活保障告知书、申请授权及承诺书"

# The agencies of the economic check (DOMAIN.md, Art 12–14): short name -> the words the
# authorization uses for it.
AGENCIES = {
    "户籍": "户籍信息",
    "税务": "纳税信息",
    "社保": "社会保险（社保）",
    "不动产": "不动产登记信息",
    "市场主体": "市场主体登记信息",
    "公积金": "住房公积金",
    "车船": "车船登记信息",
    "银行存款": "银行存款信息",
    "商业保险": "商业保险信息",
    "证券": "证券及基金持有信息",
    "互联网金融资产": "互联网金融资产信息",
}


def _section(text: str, start: str, end: str | None) -> str:
    i = text.index(start)
    j = text.index(end, i) if end else len(text)
    return text[i:j]


def test_pinned_versions_are_exactly_the_published_ones():
    assert tuple(PINNED) == NOTICE_VERSIONS
    assert CURRENT_NOTICE_VERSION in NOTICE_VERSIONS


@pytest.mark.parametrize("version", list(PINNED))
def test_version_text_is_pinned(version):
    doc = get_notice(version)
    assert doc is not None
    assert doc.version == version
    assert doc.sha256 == PINNED[version]
    assert hashlib.sha256(doc.text.encode("utf-8")).hexdigest() == PINNED[version]


def test_current_notice():
    doc = current_notice()
    assert isinstance(doc, Document)
    assert doc.version == CURRENT_NOTICE_VERSION
    assert doc.title == TITLE
    assert doc.text.startswith(TITLE + "\n")
    assert f"文本版本：{doc.version}" in doc.text
    assert get_notice(CURRENT_NOTICE_VERSION) == doc


@pytest.mark.parametrize("version", ["v0", "v2", "V1", "", "../notice_v1", "notice_v1.txt", None])
def test_unknown_version_is_none(version):
    assert get_notice(version) is None


def test_document_is_immutable():
    doc = current_notice()
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.text = "改动"  # type: ignore[misc]


def test_edited_text_is_refused(monkeypatch):
    notice_module._load.cache_clear()
    monkeypatch.setitem(notice_module._PUBLISHED, "v1", ("notice_v1.txt", "0" * 64))
    try:
        with pytest.raises(RuntimeError, match="immutable"):
            get_notice("v1")
    finally:
        notice_module._load.cache_clear()


def test_text_is_clean():
    text = current_notice().text
    assert unicodedata.normalize("NFC", text) == text
    assert "\r" not in text and "\t" not in text
    for line in text.split("\n"):
        assert line == line.rstrip(), line
        for ch in line:
            assert unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cn"), repr(ch)


def test_three_parts_in_order():
    text = current_notice().text
    positions = [text.index(h) for h in ("一、告知事项", "二、授权书", "三、承诺书")]
    assert positions == sorted(positions)
    for word in ("告知", "授权", "承诺"):
        assert word in text


def test_notice_sections():
    text = _section(current_notice().text, "一、告知事项", "二、授权书")
    for heading in (
        "（一）申请条件",
        "（二）审核确认程序与时限",
        "（三）家庭经济状况调查与核对",
        "（四）不计入家庭收入的项目",
        "（五）个人信息保护",
        "（六）申请人及共同生活的家庭成员的义务",
        "（七）救济途径",
    ):
        assert heading in text


def test_conditions_follow_the_rules():
    text = _section(current_notice().text, "（一）申请条件", "（二）")
    # Art 4: where to apply, online allowed.
    assert "户籍所在地的乡镇人民政府（街道办事处）" in text
    assert "线上" in text
    # Art 6: entrustment, recorded.
    assert "委托村（居）民委员会或者其他人" in text
    assert "记录委托人、受托人和委托时间" in text
    # Art 7: who counts, who does not.
    for who in ("配偶", "未成年子女", "全日制本科及以下学历教育", "法定赡养、扶养、抚养义务"):
        assert who in text
    for excluded in ("宗教教职人员", "监狱内服刑", "强制隔离戒毒", "宣告失踪"):
        assert excluded in text
    # Art 8: single-person household in a 低保边缘家庭 (1.5 × the local standard).
    assert "单人户" in text
    assert "一级、二级重度残疾人" in text and "三级智力残疾人、三级精神残疾人" in text
    assert "重特大疾病" in text
    assert "1.5倍" in text
    # Art 10 and 11.
    assert "一次性告知" in text
    assert "近亲属" in text


def test_time_limits_in_working_days():
    text = _section(current_notice().text, "（二）审核确认程序与时限", "（三）")
    assert "工作日" in text
    for limit in ("3个工作日内启动家庭经济状况调查", "3个工作日内启动家庭经济状况信息核对"):
        assert limit in text
    for limit in ("公示期为7天", "10个工作日内", "30个工作日内", "20个工作日内", "45个工作日"):
        assert limit in text
    assert "不少于2人" in text  # Art 16: home visit
    assert "次月起发放" in text
    assert "只公布申请人姓名、保障人数和保障金额" in text  # Art 24
    assert "每半年" in text  # Art 31


def test_local_figures_are_not_stated():
    text = current_notice().text
    assert text.count("以当地公布为准") >= 3
    # No amount of money: the standard is configuration, never part of the text.
    assert "元" not in text


def test_economic_check_and_exempt_income():
    text = current_notice().text
    check = _section(text, "（三）家庭经济状况调查与核对", "（四）")
    for cls in ("工资性收入", "经营净收入", "财产净收入", "转移净收入", "其他收入"):
        assert cls in check
    assert "不会仅凭自动化处理结果作出" in check  # PIPL Art 24
    exempt = _section(text, "（四）不计入家庭收入的项目", "（五）")
    for item in ("优待抚恤金", "计划生育奖励", "奖学金", "社会救助款物", "基础养老金"):
        assert item in exempt
    assert "刚性支出" in exempt


def test_personal_information():
    text = _section(current_notice().text, "（五）个人信息保护", "（六）")
    for sensitive in ("人脸信息", "健康信息", "残疾信息", "金融账户信息", "不满十四周岁"):
        assert sensitive in text
    assert "单独同意" in text
    assert "监护人" in text
    assert "当面核验身份" in text  # face verification is not the only way
    assert "保存期限" in text
    for right in ("查阅", "复制", "更正", "删除", "撤回同意"):
        assert right in text


def test_duties_and_appeal():
    text = current_notice().text
    duties = _section(text, "（六）", "（七）")
    assert "如实提供" in duties
    assert "及时主动告知" in duties
    appeal = _section(text, "（七）救济途径", "二、授权书")
    assert "行政复议" in appeal and "行政诉讼" in appeal
    assert "12349" in appeal


def test_authorization_names_every_agency():
    text = _section(current_notice().text, "二、授权书", "三、承诺书")
    for short, words in AGENCIES.items():
        assert short in text, short
        assert words in text, words


def test_commitment():
    text = _section(current_notice().text, "三、承诺书", None)
    assert "真实、完整、有效" in text
    assert "法律责任" in text
    assert "手写签名" in text


def test_module_is_pure():
    code = (
        "import sys, jiuzhutong.documents; "
        "bad = [m for m in ('fastapi', 'starlette', 'sqlalchemy', 'textual', 'pydantic') "
        "if m in sys.modules]; print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""
