"""XML Schema / XPath 2.0 regular expressions (DMN 1.5 10.3.4.3: ``matches``, ``replace``, ``split``),
translated to Python's ``re``.

FEEL's string functions take their patterns and flags from XQuery 1.0 and XPath 2.0 Functions and Operators
(7.6): the XML Schema regular expression language (XSD part 2, appendix F) plus ``^``/``$`` anchors, reluctant
quantifiers, back-references ``\\N`` and the flags ``s``, ``m``, ``i``, ``x`` (and ``q`` from F&O 3.1). The
translator below reads the pattern with its own small recursive-descent parser and writes an equivalent Python
pattern; anything it cannot translate exactly raises FeelError (so a pattern is either matched as XPath
matches it or gives null, never a different answer):

==============================  ===================================================================
XPath                           Python
==============================  ===================================================================
``.``                           ``[^\\n\\r]`` (``s`` flag: any character)
``^`` / ``$``                   ``^`` / ``\\Z`` (``m`` flag: ``^`` / ``$`` of re.MULTILINE)
``\\s`` ``\\S``                  ``[ \\t\\n\\r]`` and its complement (XSD's four spaces, not Python's)
``\\d`` ``\\D``                  Unicode decimal digits (Python's ``\\d`` on str is category Nd)
``\\w`` ``\\W``                  every code point but categories P, Z, C (built from ``unicodedata``)
``\\p{Lu}`` ``\\p{IsBasicLatin}``  explicit code point ranges (categories from ``unicodedata``; the blocks
                                in ``_BLOCKS``; another block name raises FeelError); under the ``i``
                                flag scoped ``(?-i:…)``, as XPath leaves them case-sensitive
``[a-z-[aeiou]]``               ``(?:(?![aeiou])[a-z])`` (class subtraction as a negative look-ahead)
``\\N`` back-reference           ``(?:\\N)`` to a group closed before it; else FeelError
``\\i`` ``\\c`` (XML names)       FeelError (the XML name classes differ between XML editions)
==============================  ===================================================================

Guards, since Python's ``re`` backtracks without a time limit: a pattern over ``MAX_PATTERN`` characters
raises FeelError, and so does a group with choices (an alternation or a variable quantifier) that is itself
repeated a variable number of times (``(a+)+``, ``(a|a)*``, ``(a?){2,9}``: exponential backtracking). The
input may have at most ``MAX_INPUT`` characters, fewer the more variable quantifiers the pattern has
(``a*a*b`` is cubic in its input): ``_input_limit`` keeps the worst case near ``MATCH_STEPS`` steps.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from efficacy_flow.policy._feel_values import FeelError

__all__ = ["MAX_INPUT", "MAX_PATTERN", "XPathRegex", "compile_xpath"]

#: The longest pattern translated (characters).
MAX_PATTERN: Final = 2_000
#: The longest input a pattern is matched against (characters).
MAX_INPUT: Final = 100_000
#: The backtracking steps a match may take at worst (about a second of Python's ``re``).
MATCH_STEPS: Final = 10**9

_FLAGS: Final = frozenset("smixq")
#: XSD's single-character escapes (``\\n`` ``\\r`` ``\\t`` and the metacharacters).
_SINGLE_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t"} | {c: c for c in "\\|.?*+(){}-[]^$"}
#: Unicode blocks by their XSD names (``\\p{IsBasicLatin}``): first and last code point.
_BLOCKS: Final = {
    "BasicLatin": (0x0000, 0x007F),
    "Latin-1Supplement": (0x0080, 0x00FF),
    "LatinExtended-A": (0x0100, 0x017F),
    "LatinExtended-B": (0x0180, 0x024F),
    "IPAExtensions": (0x0250, 0x02AF),
    "SpacingModifierLetters": (0x02B0, 0x02FF),
    "CombiningDiacriticalMarks": (0x0300, 0x036F),
    "Greek": (0x0370, 0x03FF),
    "GreekandCoptic": (0x0370, 0x03FF),
    "Cyrillic": (0x0400, 0x04FF),
    "Armenian": (0x0530, 0x058F),
    "Hebrew": (0x0590, 0x05FF),
    "Arabic": (0x0600, 0x06FF),
    "Devanagari": (0x0900, 0x097F),
    "Thai": (0x0E00, 0x0E7F),
    "HangulJamo": (0x1100, 0x11FF),
    "LatinExtendedAdditional": (0x1E00, 0x1EFF),
    "GreekExtended": (0x1F00, 0x1FFF),
    "GeneralPunctuation": (0x2000, 0x206F),
    "SuperscriptsandSubscripts": (0x2070, 0x209F),
    "CurrencySymbols": (0x20A0, 0x20CF),
    "LetterlikeSymbols": (0x2100, 0x214F),
    "NumberForms": (0x2150, 0x218F),
    "Arrows": (0x2190, 0x21FF),
    "MathematicalOperators": (0x2200, 0x22FF),
    "BoxDrawing": (0x2500, 0x257F),
    "GeometricShapes": (0x25A0, 0x25FF),
    "CJKSymbolsandPunctuation": (0x3000, 0x303F),
    "Hiragana": (0x3040, 0x309F),
    "Katakana": (0x30A0, 0x30FF),
    "CJKUnifiedIdeographs": (0x4E00, 0x9FFF),
    "HangulSyllables": (0xAC00, 0xD7AF),
    "PrivateUse": (0xE000, 0xF8FF),
    "CJKCompatibilityIdeographs": (0xF900, 0xFAFF),
    "AlphabeticPresentationForms": (0xFB00, 0xFB4F),
    "HalfwidthandFullwidthForms": (0xFF00, 0xFFEF),
    "Specials": (0xFFF0, 0xFFFF),
}
_CATEGORIES: Final = frozenset(
    [
        "L",
        "Lu",
        "Ll",
        "Lt",
        "Lm",
        "Lo",
        "M",
        "Mn",
        "Mc",
        "Me",
        "N",
        "Nd",
        "Nl",
        "No",
        "P",
        "Pc",
        "Pd",
        "Ps",
        "Pe",
        "Pi",
        "Pf",
        "Po",
        "Z",
        "Zs",
        "Zl",
        "Zp",
        "S",
        "Sm",
        "Sc",
        "Sk",
        "So",
        "C",
        "Cc",
        "Cf",
        "Co",
        "Cn",
    ]
)


@dataclass(frozen=True, slots=True)
class XPathRegex:
    """A translated pattern: the compiled Python regex, its number of capturing groups and the longest input
    it may be matched against (see ``_input_limit``)."""

    compiled: re.Pattern[str]
    groups: int
    max_input: int = MAX_INPUT

    def check_input(self, text: str) -> None:
        """Refuse an input longer than ``max_input``."""
        if len(text) > self.max_input:
            raise FeelError(f"regular expression input longer than {self.max_input} characters")


def _input_limit(variable_quantifiers: int) -> int:
    """The longest input for a pattern with ``k`` variable quantifiers (``*``, ``+``, ``?``, ``{n,m}`` with
    m > n): a backtracking search costs up to about n^(k+1) steps, kept under ``MATCH_STEPS``."""
    power = variable_quantifiers + 1
    root: int = round(MATCH_STEPS ** (1 / power))
    while root**power > MATCH_STEPS:
        root -= 1
    while (root + 1) ** power <= MATCH_STEPS:
        root += 1
    return min(MAX_INPUT, root)


def compile_xpath(pattern: str, flags: str | None) -> XPathRegex:
    """Translate and compile an XPath pattern with its flags; FeelError if invalid or untranslatable."""
    return _compile(pattern, flags or "")


@lru_cache(maxsize=256)
def _compile(pattern: str, flags: str) -> XPathRegex:
    if len(pattern) > MAX_PATTERN:
        raise FeelError(f"regular expression longer than {MAX_PATTERN} characters")
    unknown = set(flags) - _FLAGS
    if unknown:
        raise FeelError(f"invalid regular expression flag {sorted(unknown)[0]!r}")
    python_flags = re.IGNORECASE if "i" in flags else 0
    if "q" in flags:
        return XPathRegex(re.compile(re.escape(pattern), python_flags), 0)
    if "x" in flags:
        pattern = _strip_whitespace(pattern)
    translator = _Translator(pattern, dot_all="s" in flags, multiline="m" in flags, ignore_case="i" in flags)
    source = translator.translate()
    if "m" in flags:
        python_flags |= re.MULTILINE
    try:
        compiled = re.compile(source, python_flags)
    except (re.error, RecursionError, OverflowError) as error:
        raise FeelError(f"invalid regular expression {pattern!r}: {error}") from None
    return XPathRegex(compiled, translator.groups, _input_limit(translator.variable))


def _strip_whitespace(pattern: str) -> str:
    """The ``x`` flag: whitespace (#x9 #xA #xD #x20) is removed except inside character class expressions."""
    out: list[str] = []
    depth = 0
    escaped = False
    for char in pattern:
        if char in " \t\n\r" and depth == 0:
            continue  # also after a backslash: ``hello\\ sworld`` is ``hello\\sworld``
        if escaped:
            out.append(char)
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        out.append(char)
    return "".join(out)


def _ranges_source(ranges: list[tuple[int, int]]) -> str:
    """Character class body (without brackets) for code point ranges."""
    parts = []
    for first, last in ranges:
        parts.append(_class_char(first) if first == last else f"{_class_char(first)}-{_class_char(last)}")
    return "".join(parts)


def _class_char(code: int) -> str:
    return f"\\U{code:08x}"


@lru_cache(maxsize=1)
def _all_categories() -> dict[str, list[tuple[int, int]]]:
    """Each two-letter general category → its code point ranges (one pass over Unicode, done once)."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    current = unicodedata.category("\x00")
    start = 0
    for code in range(1, sys.maxunicode + 2):
        category = unicodedata.category(chr(code)) if code <= sys.maxunicode else ""
        if category != current:
            ranges.setdefault(current, []).append((start, code - 1))
            current, start = category, code
    return ranges


@lru_cache(maxsize=64)
def _category_ranges(prefix: str) -> str:
    """Class body of the code points whose general category starts with ``prefix`` (``L``, ``Lu``, …)."""
    selected = [
        span for category, spans in _all_categories().items() if category.startswith(prefix) for span in spans
    ]
    return _ranges_source(sorted(selected))


@lru_cache(maxsize=1)
def _word_ranges() -> str:
    """XSD ``\\w``: every code point but those of categories P, Z and C (the class body of
    what is excluded)."""
    return _category_ranges("P") + _category_ranges("Z") + _category_ranges("C")


class _Translator:
    """Recursive descent over the XSD regex grammar (regExp ::= branch ('|' branch)*), writing Python."""

    def __init__(self, pattern: str, dot_all: bool, multiline: bool, ignore_case: bool) -> None:
        self.pattern = pattern
        self.pos = 0
        self.dot_all = dot_all
        self.multiline = multiline
        self.ignore_case = ignore_case
        self.groups = 0
        self.closed: set[int] = set()
        #: How many quantifiers repeat a variable number of times.
        self.variable = 0

    def fail(self, why: str) -> FeelError:
        return FeelError(f"regular expression {self.pattern!r}: {why} at {self.pos}")

    def peek(self) -> str | None:
        return self.pattern[self.pos] if self.pos < len(self.pattern) else None

    def translate(self) -> str:
        source, _ = self.regexp(depth=0)
        if self.pos != len(self.pattern):
            raise self.fail("unbalanced ')'")
        return source

    def regexp(self, depth: int) -> tuple[str, bool]:
        """Branches separated by ``|``; returns the source and whether it offers choices (an alternation or a
        variable quantifier)."""
        if depth > 50:
            raise self.fail("groups nested too deep")
        branches: list[str] = []
        choices = False
        while True:
            branch, has = self.branch(depth)
            branches.append(branch)
            choices = choices or has
            if self.peek() == "|":
                self.pos += 1
                choices = True
                continue
            return "|".join(branches), choices

    def branch(self, depth: int) -> tuple[str, bool]:
        pieces: list[str] = []
        choices = False
        while (char := self.peek()) is not None and char not in "|)":
            atom, inner = self.atom(depth)
            quantifier, variable = self.quantifier()
            if variable and inner:
                raise self.fail("a variable repetition of a group with choices (catastrophic backtracking)")
            pieces.append(atom + quantifier)
            choices = choices or inner or variable
        return "".join(pieces), choices

    def quantifier(self) -> tuple[str, bool]:
        """``? * + {n} {n,} {n,m}`` with an optional reluctant ``?``; returns it and whether it repeats a
        variable number of times (counted in ``variable``)."""
        char = self.peek()
        if char is None or char not in "?*+{":
            return "", False
        self.pos += 1
        variable = True
        text = char
        if char == "{":
            match = re.compile(r"(\d+)(,(\d*))?\}").match(self.pattern, self.pos)
            if match is None:
                raise self.fail("invalid quantifier")
            low, comma, high = match.group(1), match.group(2), match.group(3)
            if high and int(high) < int(low):
                raise self.fail("quantifier {n,m} with m < n")
            if int(low) > 1000 or (high and int(high) > 1000):
                raise self.fail("quantifier bound over 1000")
            variable = comma is not None and high != low
            text = "{" + match.group(0)
            self.pos = match.end()
        if self.peek() == "?":
            self.pos += 1
            text += "?"
        self.variable += variable
        return text, variable

    def atom(self, depth: int) -> tuple[str, bool]:
        """One atom; returns its source and whether it offers choices (a group with an alternation or a
        variable quantifier)."""
        char = self.pattern[self.pos]
        self.pos += 1
        if char == "(":
            capturing = True
            if self.pattern.startswith("?:", self.pos):
                self.pos += 2
                capturing = False
            elif self.peek() == "?":
                raise self.fail("'(?' is not XPath syntax")
            number = 0
            if capturing:
                self.groups += 1
                number = self.groups
            inner, choices = self.regexp(depth + 1)
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
            if capturing:
                self.closed.add(number)
                return f"({inner})", choices
            return f"(?:{inner})", choices
        if char == "[":
            return self.char_class(), False
        if char == "\\":
            return self.escape(in_class=False), False
        if char == ".":
            return ("(?s:.)" if self.dot_all else "[^\\n\\r]"), False
        if char == "^":
            return "^", False
        if char == "$":
            return ("$" if self.multiline else "\\Z"), False
        if char in "?*+{":
            raise self.fail(f"quantifier {char!r} without an atom")
        if char in "]}":
            raise self.fail(f"unescaped {char!r}")
        return re.escape(char), False

    def escape(self, in_class: bool) -> str:
        """After a backslash: a single-character escape, a class escape or (outside classes) a
        back-reference."""
        char = self.peek()
        if char is None:
            raise self.fail("trailing backslash")
        self.pos += 1
        if char in _SINGLE_ESCAPES:
            return re.escape(_SINGLE_ESCAPES[char])
        if char == "s":
            return "[ \\t\\n\\r]" if not in_class else " \\t\\n\\r"
        if char == "S":
            if in_class:
                raise self.fail("\\S inside a character class is not translated")
            return "[^ \\t\\n\\r]"
        if char == "d":
            return "\\d"
        if char == "D":
            if in_class:
                raise self.fail("\\D inside a character class is not translated")
            return "\\D"
        if char in "wW":
            if in_class:
                raise self.fail(f"\\{char} inside a character class is not translated")
            body = _word_ranges()
            return self.case_exact(f"[^{body}]" if char == "w" else f"[{body}]")
        if char in "pP":
            body = self.property()
            if in_class:
                if char == "P" or self.ignore_case:
                    raise self.fail(f"\\{char} inside a character class is not translated")
                return body
            return self.case_exact(f"[^{body}]" if char == "P" else f"[{body}]")
        if char.isdigit() and not in_class:
            return self.backreference(char)
        raise self.fail(f"invalid escape \\{char}")

    def case_exact(self, source: str) -> str:
        """A category class under the ``i`` flag: XPath leaves ``\\p{Lu}`` and ``\\w`` unaffected by it."""
        return f"(?-i:{source})" if self.ignore_case else source

    def backreference(self, first: str) -> str:
        if first == "0":
            raise self.fail("\\0 is not a back-reference")
        number = int(first)
        while (char := self.peek()) is not None and char.isdigit() and int(f"{number}{char}") <= self.groups:
            number = int(f"{number}{char}")
            self.pos += 1
        if number not in self.closed:
            raise self.fail(f"back-reference \\{number} to a group not closed before it")
        return f"(?:\\{number})"

    def property(self) -> str:
        """``{Name}`` after ``\\p``: a general category or an ``Is`` block; the class body."""
        match = re.compile(r"\{([A-Za-z0-9-]+)\}").match(self.pattern, self.pos)
        if match is None:
            raise self.fail("invalid \\p{…}")
        self.pos = match.end()
        name = match.group(1)
        if name in _CATEGORIES:
            return _category_ranges(name)
        if name.startswith("Is") and name[2:] in _BLOCKS:
            first, last = _BLOCKS[name[2:]]
            return _ranges_source([(first, last)])
        raise self.fail(f"unknown or untranslated property {name!r}")

    def char_class(self) -> str:
        """``[…]`` after ``[``: optional ``^``, items (characters, ranges, escapes), optional
        ``-[subtraction]``."""
        negated = False
        if self.peek() == "^":
            negated = True
            self.pos += 1
        items: list[str] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                raise self.fail("missing ']'")
            if char == "]" and not first:
                self.pos += 1
                body = "".join(items)
                return f"[^{body}]" if negated else f"[{body}]"
            if char == "-" and self.pattern.startswith("-[", self.pos) and not first:
                self.pos += 2
                subtracted = self.char_class()
                if self.peek() != "]":
                    raise self.fail("a subtraction must end its class")
                self.pos += 1
                body = "".join(items)
                base = f"[^{body}]" if negated else f"[{body}]"
                return f"(?:(?!{subtracted}){base})"
            if char == "[" or (char == "]" and first):
                raise self.fail(f"unescaped {char!r} inside a character class")
            items.append(self.class_item(first))
            first = False

    def class_item(self, first: bool) -> str:
        """One character, escape or ``a-z`` range inside a class."""
        low, low_char = self.class_char(first)
        if (
            self.peek() == "-"
            and not self.pattern.startswith("-[", self.pos)
            and self.pos + 1 < len(self.pattern)
        ):
            if self.pattern[self.pos + 1] == "]":
                return low  # a '-' before ']' is literal; read next round
            if low_char is None:
                raise self.fail("a range cannot start with a class escape")
            self.pos += 1
            high, high_char = self.class_char(False)
            if high_char is None:
                raise self.fail("a range cannot end with a class escape")
            if ord(high_char) < ord(low_char):
                raise self.fail("range out of order")
            return f"{low}-{high}"
        return low

    def class_char(self, first: bool) -> tuple[str, str | None]:
        """A class character: its Python source and the character itself (None for a
        multi-character escape)."""
        char = self.pattern[self.pos]
        self.pos += 1
        if char == "\\":
            nxt = self.peek()
            if nxt is not None and nxt in _SINGLE_ESCAPES:
                self.pos += 1
                literal = _SINGLE_ESCAPES[nxt]
                return _class_char(ord(literal)), literal
            return self.escape(in_class=True), None
        if char == "-" and not first and self.peek() not in ("]", None):
            raise self.fail("unescaped '-' inside a character class")
        return _class_char(ord(char)), char
