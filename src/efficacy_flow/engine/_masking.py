"""Masking personal data: phone numbers, ID numbers and names, by declared kind or found in free text.

With a kind (a field the schema marks ``pii: phone | id_number | name``) the whole value is masked:
phone ``138****5678``, ID number ``110105********1234``, name ``张**``. A phone or ID value that is one of
the numbers below written in full (a prefix, separators or full-width digits included) is masked exactly as in
free text; any other value of the kind keeps its first 3 (phone) or 6 (ID number) and last 4 characters.

Without a kind, every string is searched for these numbers, one pass, left to right:

- **18-digit ID numbers** (GB 11643-1999): a region code (first digit 1-9), a birth date (year 18xx, 19xx or
  20xx, month 01-12, day 01-31), a sequence and a check character (a digit, ``X`` or
  ``x``). The birth date is masked: ``110105********1234``, ``11010519900101123X`` → ``110105********123X``.
- **15-digit ID numbers** (the old form): region code, 6-digit birth date ``YYMMDD`` (month and
  day as above), sequence. The birth date
  is masked: ``110105900101123`` → ``110105******123``.
- **Mobile numbers**: 11 digits starting 13-19, optionally after ``+86``, ``86`` or ``0086`` (and one
  separator). The middle four are masked: ``138****5678``, ``+86 138****5678``.
- **Landlines**: an area code (0, a digit 1-9, one or two more digits) followed by a separator or in
  parentheses, then a 7- or 8-digit number; all but its last four digits are masked: ``010-****5678``,
  ``0755-***4567``, ``(010)****5678``.

How they may be written: ID numbers as 6-8-4 (or 6-6-3) groups and mobile numbers as 3-4-4 groups, each gap
empty or one separator (a space, an ideographic space ``U+3000``, ``-`` or a full-width ``－``), e.g.
``138 1234 5678``, ``138-1234-5678``, ``110105 19900101 1234``. Digits may be ASCII or full-width
(``１３８１２３４５６７８`` → ``１３８****５６７８``). Everything else is kept exactly: the text around, the
prefix, the separators and the kept digits as written (full-width stays full-width); each masked digit
becomes one ``*``.

Where a number stops: it is neither preceded nor followed by a digit (letters may touch it:
``ID110105199001011234`` and ``身份证号:110105...`` are masked), so a longer run of digits (an account or
order number) is left alone, as are years (``2025``), short case numbers (``2025-001``), dates
(``2025-10-01``, ``20251001``) and ordinary amounts: none has the shape above. A number directly before or
after three asterisks (``***``, with at most one separator between) is left alone too: that is how the kept
digits of a number already masked look, and it makes masking idempotent (masking twice equals masking once).

Identifiers are left whole: a UUID (8-4-4-4-12 hex digits) or a run of 32 to 64 hex digits (a digest) is
skipped as one token, so the engine's ids and hashes never lose digits to a number found inside them.

Not covered: other groupings (``1381 234 5678``), dots as separators, extensions, other countries' numbers.

Linear time: every quantifier in the pattern is bounded and none is nested, and the lookarounds have a fixed
width, so a match attempt at each position does bounded work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["mask_text", "mask_value"]

#: Full-width digits are the ASCII ones shifted by this much (``１`` is U+FF11).
_WIDE = 0xFEE0


def _digits(spec: str) -> str:
    """A character class of the ASCII digits ``spec`` (``"0-9"``, ``"3-9"``, ``"1"``) and their full-width
    forms."""
    wide = "".join(c if c == "-" else chr(ord(c) + _WIDE) for c in spec)
    return f"[{spec}{wide}]"


_D = _digits("0-9")
_SEP = "[ \u3000\\-\uff0d]"
#: Not inside a longer run of digits, nor next to the asterisks of a number already masked.
_BEFORE = rf"(?<!{_D})(?<!\*\*\*)(?<!\*\*\*{_SEP})"
_AFTER = rf"(?!{_D})(?!\*\*\*)(?!{_SEP}\*\*\*)"

_YEAR = f"(?:{_digits('1')}{_digits('89')}|{_digits('2')}{_digits('0')}){_D}{{2}}"
_MONTH = f"(?:{_digits('0')}{_digits('1-9')}|{_digits('1')}{_digits('0-2')})"
_DAY = f"(?:{_digits('0')}{_digits('1-9')}|{_digits('12')}{_D}|{_digits('3')}{_digits('01')})"
_MONTH_DAY = _MONTH + _DAY
_REGION = f"{_digits('1-9')}{_D}{{5}}"
_CHECK = f"(?:{_D}|[Xx\uff38\uff58])"
_MOBILE = f"{_digits('1')}{_digits('3-9')}{_D}{_SEP}?(?P<{{name}}_mask>{_D}{{{{4}}}}){_SEP}?{_D}{{{{4}}}}"

_HEX = "[0-9A-Fa-f]"
#: Each alternative's name, and the group in it whose digits are masked; the rest of a match is kept. The
#: first, ``token``, masks nothing: a UUID or a long hex digest (the engine's own ids and hashes, in history
#: and messages) is taken whole, so no run of digits inside it (``…-19698667127c``) reads as a number.
_PATTERNS = {
    "token": rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}|{_HEX}{{32,64}}",
    "id18": rf"{_REGION}{_SEP}?(?P<id18_mask>{_YEAR}{_MONTH_DAY}){_SEP}?{_D}{{3}}{_CHECK}",
    "id15": rf"{_REGION}{_SEP}?(?P<id15_mask>{_D}{{2}}{_MONTH_DAY}){_SEP}?{_D}{{3}}",
    "mobile": _MOBILE.format(name="mobile"),
    "mobile86": rf"(?:[+\uff0b]|{_digits('0')}{_digits('0')})?{_digits('8')}{_digits('6')}{_SEP}?"
    + _MOBILE.format(name="mobile86"),
    "landline": (
        rf"(?:[(\uff08]{_digits('0')}{_digits('1-9')}{_D}{{1,2}}[)\uff09]{_SEP}?"
        rf"|{_digits('0')}{_digits('1-9')}{_D}{{1,2}}{_SEP})"
        rf"(?P<landline_mask>{_digits('1-9')}{_D}{{2,3}}){_D}{{4}}"
    ),
}
_NUMBER = re.compile(
    _BEFORE + "(?:" + "|".join(f"(?P<{name}>{body})" for name, body in _PATTERNS.items()) + ")" + _AFTER
)
_MASKABLE = re.compile(_D)
#: The number kinds a field's pii kind may be written as in full.
_KIND_NUMBERS = {"phone": ("mobile", "mobile86", "landline"), "id_number": ("id18", "id15")}


def _masked(match: re.Match[str]) -> str:
    """A found number with the digits of its mask group replaced by ``*`` (separators kept)."""
    name = match.lastgroup
    assert name is not None  # every alternative is a named group
    if name == "token":
        return match.group(0)
    start, end = match.span(f"{name}_mask")
    text, offset = match.group(0), match.start()
    middle = _MASKABLE.sub("*", text[start - offset : end - offset])
    return text[: start - offset] + middle + text[end - offset :]


def mask_text(text: str) -> str:
    """``text`` with every phone and ID number in it masked (the rules are in the module docstring)."""
    return _NUMBER.sub(_masked, text)


def _mask_kind(value: str, kind: str) -> str:
    """A whole value of a pii kind masked."""
    if kind == "name":
        return value[:1] + "*" * (len(value) - 1)
    whole = _NUMBER.fullmatch(value)
    if whole is not None and whole.lastgroup in _KIND_NUMBERS.get(kind, ()):
        return _masked(whole)
    if kind == "phone" and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if kind == "id_number" and len(value) >= 10:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return mask_text(value)


def mask_value(value: Any, kind: str | None = None) -> Any:
    """Mask personal data: phone 138****5678, ID number 110105********1234, name 张**.

    With ``kind`` the whole value is treated as that kind; without, phone and ID numbers found inside strings
    are masked (a safety net for free text), recursively through lists and mappings. Anything else is
    returned as it is.
    """
    if isinstance(value, Mapping):
        return {k: mask_value(v, kind) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, kind) for v in value]
    if not isinstance(value, str):
        return value
    if kind is None:
        return mask_text(value)
    return _mask_kind(value, kind)
