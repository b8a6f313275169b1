"""Masking personal data in history and logs (phone numbers, ID numbers, names)."""

from __future__ import annotations

import pytest

from efficacy_flow.engine._schemas import mask_value


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        pytest.param("13812345678", "phone", "138****5678", id="phone"),
        pytest.param("110105199001011234", "id_number", "110105********1234", id="id-number"),
        pytest.param("张三丰", "name", "张**", id="name"),
        pytest.param("请回电13812345678谢谢", None, "请回电138****5678谢谢", id="phone-in-text"),
        pytest.param("身份证11010519900101123X。", None, "身份证110105********123X。", id="id-in-text"),
        pytest.param({"a": ["13912345678"]}, None, {"a": ["139****5678"]}, id="nested"),
        pytest.param(42, None, 42, id="not-text"),
    ],
)
def test_masking(value: object, kind: str | None, expected: object) -> None:
    """Personal data is masked by kind, and phone/ID numbers inside free text too."""
    assert mask_value(value, kind) == expected
