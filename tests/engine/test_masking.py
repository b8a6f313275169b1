"""Masking personal data in history and logs (phone numbers, ID numbers, names), by kind and in free text."""

from __future__ import annotations

import importlib
import unicodedata
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow.engine._masking import _NUMBER, mask_text, mask_value

#: The separators a number may be written with (a space, an ideographic space, a hyphen, a full-width one).
SEPARATORS = ["", " ", "-", "\u3000", "\uff0d"]
#: Text around a number: Chinese, ASCII letters and punctuation, no digit and no asterisk. The letters are
#: not hex digits: a number inside a run of 32 or more hex digits is a digest, left whole (see
#: test_ids_and_digests_are_left_whole).
AROUND = st.text(
    alphabet="请回电话号码身份证谢您好市民反映工单：:，,。.！!（）() /#@+GHIKXxgkz\n", max_size=12
)


def _wide(text: str) -> str:
    """``text`` with its ASCII digits in full width."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isdigit() else c for c in text)


def _normalised(text: str) -> str:
    """What a reader could recover: full width folded to ASCII, separators removed."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded if c not in " -")


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        pytest.param("13812345678", "phone", "138****5678", id="kind-phone"),
        pytest.param("110105199001011234", "id_number", "110105********1234", id="kind-id-number"),
        pytest.param("张三丰", "name", "张**", id="kind-name"),
        pytest.param("+86 138-1234-5678", "phone", "+86 138-****-5678", id="kind-phone-written-out"),
        pytest.param("0755-1234567", "phone", "0755-***4567", id="kind-phone-landline"),
        pytest.param("110105900101123", "id_number", "110105******123", id="kind-id-number-15"),
        pytest.param("A12345678", "id_number", "A12345678", id="kind-too-short"),
        pytest.param("ext 12345678901", "phone", "ext********8901", id="kind-phone-other-text"),
        pytest.param({"a": ["13912345678"]}, None, {"a": ["139****5678"]}, id="nested"),
        pytest.param(("13912345678", 7), None, ["139****5678", 7], id="tuple"),
        pytest.param(42, None, 42, id="not-text"),
        pytest.param(None, "phone", None, id="none"),
    ],
)
def test_masking_by_kind(value: object, kind: str | None, expected: object) -> None:
    """A value of a declared kind is masked whole; containers are masked through; other values are kept."""
    assert mask_value(value, kind) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("请回电13812345678谢谢", "请回电138****5678谢谢", id="mobile"),
        pytest.param("电话 138 1234 5678。", "电话 138 **** 5678。", id="mobile-spaces"),
        pytest.param("电话138-1234-5678", "电话138-****-5678", id="mobile-dashes"),
        pytest.param("电话+8613812345678", "电话+86138****5678", id="plus-86"),
        pytest.param("电话8613812345678", "电话86138****5678", id="86"),
        pytest.param("电话：+86 138 1234 5678", "电话：+86 138 **** 5678", id="plus-86-space"),
        pytest.param("电话008613812345678", "电话0086138****5678", id="0086"),
        pytest.param("电话１３８１２３４５６７８", "电话１３８****５６７８", id="full-width"),
        pytest.param(
            "＋８６　１３８－１２３４－５６７８", "＋８６　１３８－****－５６７８", id="full-width-separators"
        ),
        pytest.param("旧证110105900101123号", "旧证110105******123号", id="id-15"),
        pytest.param("ID110105199001011234", "ID110105********1234", id="id-after-letters"),
        pytest.param("身份证号:110105199001011234", "身份证号:110105********1234", id="id-after-colon"),
        pytest.param("证件 110105 19900101 1234", "证件 110105 ******** 1234", id="id-spaces"),
        pytest.param("身份证11010519900101123X。", "身份证110105********123X。", id="id-x"),
        pytest.param("身份证11010519900101123x", "身份证110105********123x", id="id-lower-x"),
        pytest.param("座机010-12345678", "座机010-****5678", id="landline-8"),
        pytest.param("座机0755-1234567", "座机0755-***4567", id="landline-7"),
        pytest.param("座机（010）12345678", "座机（010）****5678", id="landline-parentheses"),
        pytest.param("13812345678,13912345678", "138****5678,139****5678", id="two-numbers"),
        pytest.param("13812345678 010-12345678", "138****5678 010-****5678", id="mobile-then-landline"),
        pytest.param("2025年10月", "2025年10月", id="year"),
        pytest.param("案号2025-001", "案号2025-001", id="case-number"),
        pytest.param("2025-10-01受理", "2025-10-01受理", id="date"),
        pytest.param("20251001", "20251001", id="date-digits"),
        pytest.param("金额12,345.67元，1380000元", "金额12,345.67元，1380000元", id="amounts"),
        pytest.param("订单号1381234567890123456789", "订单号1381234567890123456789", id="long-digit-run"),
        pytest.param("12813812345678", "12813812345678", id="mobile-inside-digits"),
        pytest.param("110105199013011234", "110105199013011234", id="id-with-month-13"),
        pytest.param("138****5678", "138****5678", id="already-masked"),
    ],
)
def test_masking_free_text(text: str, expected: str) -> None:
    """Every format of a phone or ID number is masked in free text; other numbers and the text are kept."""
    assert mask_value(text) == expected


def _repeats(pattern: Any) -> list[tuple[int, Any]]:
    """Every repeat in a parsed pattern, as (its maximum, its parsed body), nested ones included."""
    found: list[tuple[int, Any]] = []
    for op, av in pattern:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            found.append((av[1], av[2]))
            found.extend(_repeats(av[2]))
        elif name == "SUBPATTERN":
            found.extend(_repeats(av[3]))
        elif name in ("ASSERT", "ASSERT_NOT"):
            found.extend(_repeats(av[1]))
        elif name == "BRANCH":
            for branch in av[1]:
                found.extend(_repeats(branch))
    return found


def test_the_pattern_has_only_bounded_unnested_quantifiers() -> None:
    """No quantifier is unbounded and none contains another: a match attempt does bounded work."""
    parser = importlib.import_module("re._parser")
    repeats = _repeats(parser.parse(_NUMBER.pattern))
    assert repeats, "the walk found the pattern's quantifiers"
    assert all(maximum != parser.MAXREPEAT for maximum, _ in repeats)
    assert all(not _repeats(body) for _, body in repeats)


#: Near-numbers that, repeated, would make a backtracking pattern slow.
NEAR_NUMBERS = ["1", "13", "8", "+86 ", "0086-", "1381234567 ", "138 1234 ", "0755-", "(010)", "110105 1990"]


@pytest.mark.parametrize("unit", [*NEAR_NUMBERS, "**** ", "１３８ "])
def test_a_200_kb_adversarial_text_is_masked(unit: str) -> None:
    """Long runs of near-numbers mask in one call: they are kept, and the number at the end is masked."""
    filler = unit * (200_000 // len(unit))
    assert mask_text(filler + "。13812345678") == filler + "。138****5678"


def _mobiles() -> st.SearchStrategy[tuple[str, str, str]]:
    """(written number, expected masked, its 11 ASCII digits): a mobile number in every written form."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, str, str]:
        digits = draw(st.sampled_from("3456789").map(lambda d: "1" + d))
        digits += draw(st.text("0123456789", min_size=9, max_size=9))
        prefix = draw(st.sampled_from(["", "+86", "86", "0086", "+86 ", "0086-", "86 ", "+86\u3000"]))
        gap1, gap2 = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(SEPARATORS))
        wide = _wide if draw(st.booleans()) else str
        written = wide(prefix + digits[:3] + gap1 + digits[3:7] + gap2 + digits[7:])
        masked = wide(prefix + digits[:3] + gap1) + "****" + wide(gap2 + digits[7:])
        return written, masked, digits

    return build()


_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _check_character(first17: str) -> str:
    """The GB 11643-1999 check character of an ID number's first 17 digits."""
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def test_the_check_character_is_the_standard_one() -> None:
    """The generator's check digit agrees with the standard's worked example (11010519491231002X)."""
    assert _check_character("11010519491231002") == "X"
    assert _check_character("44052418800101001") == "4"


def _ids() -> st.SearchStrategy[tuple[str, str, str]]:
    """(written number, expected masked, its ASCII digits): an 18-digit ID with a valid check character or a
    15-digit old one, in every written form."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, str, str]:
        region = draw(st.integers(110000, 820000).map(str))
        born = draw(st.dates(date(1900, 1, 1), date(2025, 12, 31)))
        sequence = draw(st.integers(0, 999).map(lambda n: f"{n:03d}"))
        gap1, gap2 = draw(st.sampled_from(SEPARATORS)), draw(st.sampled_from(SEPARATORS))
        wide = _wide if draw(st.booleans()) else str
        if draw(st.booleans()):
            birth = born.strftime("%Y%m%d")
            check = _check_character(region + birth + sequence)
            tail = sequence + (draw(st.sampled_from(["X", "x"])) if check == "X" else check)
        else:
            birth, tail = born.strftime("%y%m%d"), sequence
        written = wide(region + gap1 + birth + gap2 + tail)
        masked = wide(region + gap1) + "*" * len(birth) + wide(gap2 + tail)
        return written, masked, region + birth + tail

    return build()


@given(number=st.one_of(_mobiles(), _ids()), before=AROUND, after=AROUND)
def test_a_real_number_is_masked_in_any_text(number: tuple[str, str, str], before: str, after: str) -> None:
    """A mobile or ID number written any way is masked as expected, its digits are not recoverable from the
    output, and the text around is kept exactly."""
    written, masked, digits = number
    out = mask_text(before + written + after)
    assert out == before + masked + after
    assert digits.upper() not in _normalised(out).upper()


_FRAGMENTS = st.one_of(
    _mobiles().map(lambda n: n[0]),
    _ids().map(lambda n: n[0]),
    st.sampled_from(["010-12345678", "0755-1234567", "(010)12345678", "2025-10-01", "***", "*"]),
    st.text("0123456789１２ -*+()Xx", max_size=8),
    AROUND,
)


@given(parts=st.lists(_FRAGMENTS, max_size=8))
def test_masking_is_idempotent(parts: list[str]) -> None:
    """Masking what is already masked changes nothing, whatever touches the numbers."""
    once = mask_text("".join(parts))
    assert mask_text(once) == once


@pytest.mark.parametrize(
    "token",
    [
        "73cf68bd-03f3-4771-84e7-19698667127c",  # a UUID whose last group holds 196 9866 7127
        "019983bf-a900-75eb-b109-13812345678a",
        "f" * 20 + "13812345678" + "0" * 33,  # a sha256 digest with a mobile-like run inside
    ],
)
def test_ids_and_digests_are_left_whole(token: str) -> None:
    """The engine's own identifiers are not personal data: no digits inside them are masked, on their own or
    in text."""
    assert mask_value(token) == token
    assert mask_value({"incident_id": token}) == {"incident_id": token}
    assert mask_value(f"事件 {token} 已处理，回电13812345678") == f"事件 {token} 已处理，回电138****5678"
