"""Enumerations shared on the wire. Values are the words the mini-program shows."""

from enum import StrEnum


class Role(StrEnum):
    clerk = "clerk"  # 窗口经办人
    township = "township"  # 乡镇（街道）经办
    county = "county"  # 县级民政
    investigator = "investigator"  # 入户调查员
    admin = "admin"  # 系统管理员


class Relation(StrEnum):
    applicant = "本人"
    spouse = "配偶"
    child = "子女"
    parent = "父母"
    sibling = "兄弟姐妹"
    grandparent = "祖父母"
    grandchild = "孙子女"
    other = "其他"


class ApplyMode(StrEnum):
    in_person = "本人申请"
    entrusted = "代他人申请"


class DraftStatus(StrEnum):
    draft = "草稿"
    deleted = "已删除"
    submitted = "已提交"  # = CaseStatus.submitted: the draft became a case (GET …/case)


class Gender(StrEnum):
    male = "男"
    female = "女"


class HukouType(StrEnum):
    urban = "城镇"
    rural = "农村"


class MaritalStatus(StrEnum):
    single = "未婚"
    married = "已婚"
    divorced = "离婚"
    widowed = "丧偶"


class HealthStatus(StrEnum):
    healthy = "健康"
    chronic = "慢性病"
    serious = "重特大疾病"
    disabled = "残疾"


class DisabilityCategory(StrEnum):
    none = "无"
    visual = "视力残疾"
    hearing = "听力残疾"
    speech = "言语残疾"
    physical = "肢体残疾"
    intellectual = "智力残疾"
    mental = "精神残疾"
    multiple = "多重残疾"


class WorkAbility(StrEnum):
    full = "有劳动能力"
    partial = "部分丧失劳动能力"
    none = "完全丧失劳动能力"


class Exclusion(StrEnum):
    """Art 7: persons not counted as co-resident members even when registered together."""

    clergy = "宗教场所三年以上"
    prison = "服刑"
    rehab = "强制隔离戒毒"
    missing = "宣告失踪"
