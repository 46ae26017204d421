from __future__ import annotations

import copy
import pickle

from jiuzhutong.domain.errors import DomainError, DomainErrors
from jiuzhutong.domain.idnumber import IdErrorKind, IdNumberError


def test_domain_error_attributes_and_str():
    e = DomainError("phone_invalid", "手机号应为11位", "details.phone")
    assert (e.code, e.message, e.field) == ("phone_invalid", "手机号应为11位", "details.phone")
    assert str(e) == "手机号应为11位"
    assert DomainError("x", "y").field is None


def test_with_field_returns_a_changed_copy():
    e = DomainError("phone_invalid", "手机号应为11位", "details.phone")
    moved = e.with_field("members[1].details.phone")
    assert moved.field == "members[1].details.phone"
    assert (moved.code, moved.message) == (e.code, e.message)
    assert e.field == "details.phone"


def test_copy_and_pickle_keep_subclass_and_kind():
    e = IdNumberError(IdErrorKind.CHECKSUM, "身份证号校验位错误")
    for other in (copy.copy(e), copy.deepcopy(e), pickle.loads(pickle.dumps(e))):
        assert isinstance(other, IdNumberError)
        assert other.kind is IdErrorKind.CHECKSUM
        assert other == e


def test_domain_errors_lists_all():
    errors = [DomainError("a", "甲", "x"), DomainError("b", "乙", "y")]
    exc = DomainErrors(errors)
    assert exc.errors == errors
    assert str(exc) == "甲；乙"
    assert pickle.loads(pickle.dumps(exc)).errors == errors
