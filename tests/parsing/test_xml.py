"""parse_xml: one hardened parse of the XML people edit (BPMN, DMN).

A document with a DOCTYPE, an entity or an XInclude is refused with the caller's typed error naming the file;
nothing outside the document is ever read into a message. The declared encoding is honoured.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from efficacy_flow._parsing import parse_xml
from efficacy_flow.errors import DecisionTableError, ProcessDefinitionError

PASSWD = Path("/etc/passwd")
SECRET = "TOP-SECRET-7f3a9c"

#: Nine levels of ten: 10^9 "lol"s once expanded.
LAUGHS = (
    '<!DOCTYPE d [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    + "]>"
)


def _secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def _refusals(tmp_path: Path) -> dict[str, bytes]:
    secret = _secret_file(tmp_path).as_uri()
    return {
        "external-entity": (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d n="1">&x;</d>'
        ),
        "external-entity-secret": (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret}">]><d>&x;</d>'
        ).encode(),
        "external-entity-in-attribute": (
            f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret}">]><d name="&x;"/>'
        ).encode(),
        "internal-entity-in-script": (
            b"<!DOCTYPE d [<!ENTITY s \"__import__('os').system('id')\">]><d><script>&s;</script></d>"
        ),
        "parameter-entity": (f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{secret}"> %p;]><d/>').encode(),
        "billion-laughs": (LAUGHS + "<d>&lol9;</d>").encode(),
        "external-dtd": b'<!DOCTYPE d SYSTEM "file:///etc/passwd"><d/>',
        "bare-doctype": b"<!DOCTYPE d><d/>",
        "doctype-in-utf16": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d><d/>'.encode("utf-16"),
        "xinclude": (
            b'<d xmlns:xi="http://www.w3.org/2001/XInclude">\n'
            b'  <xi:include href="/etc/passwd" parse="text"/>\n</d>'
        ),
        "xinclude-2003": b'<d xmlns:xi="http://www.w3.org/2003/XInclude"><xi:include href="x"/></d>',
        "undeclared-entity": b"<d>\n  &x;\n</d>",
        "invalid-bytes-declared-utf8": b'<?xml version="1.0" encoding="UTF-8"?>\n<d n="\xff\xfe"/>',
        "gbk-undeclared": '<d>\n<t n="告诫"/></d>'.encode("gbk"),
        "not-well-formed": b"<d>\n<a></d>",
        "empty": b"",
    }


#: What each refusal's problem says (a fragment), and the line it names (None: the file as a whole).
EXPECTED: dict[str, tuple[str, int | None]] = {
    "external-entity": ("DOCTYPE", None),
    "external-entity-secret": ("DOCTYPE", None),
    "external-entity-in-attribute": ("DOCTYPE", None),
    "internal-entity-in-script": ("DOCTYPE", None),
    "parameter-entity": ("DOCTYPE", None),
    "billion-laughs": ("DOCTYPE", None),
    "external-dtd": ("DOCTYPE", None),
    "bare-doctype": ("DOCTYPE", None),
    "doctype-in-utf16": ("DOCTYPE", None),
    "xinclude": ("XInclude", 2),
    "xinclude-2003": ("XInclude", 1),
    "undeclared-entity": ("Entity 'x' not defined", 2),
    "invalid-bytes-declared-utf8": ("not UTF-8", 2),
    "gbk-undeclared": ("not UTF-8", 2),
    "not-well-formed": ("not well-formed XML", 2),
    "empty": ("not well-formed XML", 1),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_dangerous_and_broken_documents_are_refused(tmp_path: Path, case: str) -> None:
    """Each refusal is the caller's typed error with path, line, column and problem, its message naming the
    file (and the line where there is one)."""
    data = _refusals(tmp_path)[case]
    problem, line = EXPECTED[case]
    with pytest.raises(ProcessDefinitionError) as caught:
        parse_xml(data, "processes/evil.bpmn", ProcessDefinitionError)
    error = caught.value
    assert error.path == "processes/evil.bpmn"
    assert problem in error.problem
    assert error.line == line
    assert str(error).startswith("processes/evil.bpmn" + (f", line {line}" if line else "") + ": ")


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_no_message_carries_what_an_entity_points_at(tmp_path: Path, case: str) -> None:
    """Neither a secret file nor /etc/passwd ever reaches an error's message or fields."""
    with pytest.raises(ProcessDefinitionError) as caught:
        parse_xml(_refusals(tmp_path)[case], "evil.bpmn", ProcessDefinitionError)
    shown = str(caught.value) + repr(caught.value.fields)
    assert SECRET not in shown
    if PASSWD.exists():
        for line in PASSWD.read_text(encoding="utf-8", errors="replace").splitlines()[:3]:
            assert line not in shown


def test_the_error_type_and_extra_fields_are_the_callers() -> None:
    """DMN callers get a DecisionTableError carrying their own fields (decision=None for the whole file)."""
    with pytest.raises(DecisionTableError) as caught:
        parse_xml(b"<!DOCTYPE d><d/>", "a.dmn", DecisionTableError, fields={"decision": None, "rule": None})
    assert caught.value.fields["decision"] is None
    assert caught.value.fields["rule"] is None
    assert caught.value.path == "a.dmn"


def test_a_document_over_the_cap_is_refused_before_parsing() -> None:
    """The byte cap is a keyword argument; a larger document is refused naming its size and the limit."""
    data = b"<d>" + b"x" * 2000 + b"</d>"
    assert parse_xml(data, "a.bpmn", ProcessDefinitionError, max_bytes=len(data)).tag == "d"
    with pytest.raises(ProcessDefinitionError, match="2,007 bytes, over the limit of 2,006 bytes"):
        parse_xml(data, "a.bpmn", ProcessDefinitionError, max_bytes=len(data) - 1)


NAME = "受理诉求"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(f'<?xml version="1.0" encoding="UTF-8"?><d n="{NAME}"/>'.encode(), id="utf-8"),
        pytest.param(f'<d n="{NAME}"/>'.encode(), id="utf-8-undeclared"),
        pytest.param(f'<d n="{NAME}"/>'.encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param(f'<?xml version="1.0" encoding="UTF-16"?><d n="{NAME}"/>'.encode("utf-16"), id="utf-16"),
        pytest.param(f'<d n="{NAME}"/>'.encode("utf-16"), id="utf-16-bom-undeclared"),
        pytest.param(
            f'<?xml version="1.0" encoding="UTF-16BE"?><d n="{NAME}"/>'.encode("utf-16-be"), id="utf-16be"
        ),
        pytest.param(
            f'<?xml version="1.0" encoding="GB18030"?><d n="{NAME}"/>'.encode("gb18030"), id="gb18030"
        ),
        pytest.param(
            b'<?xml version="1.0" encoding="ISO-8859-1"?><d n="&#21463;&#29702;&#35785;&#27714;"/>',
            id="iso-8859-1-character-references",
        ),
    ],
)
def test_the_declared_encoding_is_honoured(data: bytes) -> None:
    """Bytes are decoded as the document declares (or by its byte-order mark): the Chinese name survives."""
    assert parse_xml(data, "a.bpmn", ProcessDefinitionError).get("n") == NAME


def test_latin1_bytes_are_read_as_latin1() -> None:
    """An ISO-8859-1 byte is the character ISO-8859-1 says, not a UTF-8 error."""
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?><d n="caf\xe9"/>'
    assert parse_xml(data, "a.bpmn", ProcessDefinitionError).get("n") == "café"


def test_text_is_taken_as_decoded_whatever_it_declares() -> None:
    """A str is already characters: its declaration's encoding cannot misread it."""
    text = f'<?xml version="1.0" encoding="ISO-8859-1"?><d n="{NAME}"/>'
    assert parse_xml(text, "a.bpmn", ProcessDefinitionError).get("n") == NAME


def test_processing_instructions_and_comments_are_kept() -> None:
    """The parse drops nothing a modeler wrote (remove_pis=False)."""
    root = parse_xml(b"<d><?modeler keep?><!-- note --><e/></d>", "a.bpmn", ProcessDefinitionError)
    assert [type(node).__name__ for node in root] == ["_ProcessingInstruction", "_Comment", "_Element"]


@given(
    text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    encoding=st.sampled_from(["UTF-8", "UTF-16", "UTF-32", "GB18030"]),
)
def test_any_text_survives_any_declared_encoding(text: str, encoding: str) -> None:
    """Whatever the characters, a document declared and written in an encoding reads back the same text."""
    from xml.sax.saxutils import escape

    document = f'<?xml version="1.0" encoding="{encoding}"?><d>{escape(text)}</d>'
    try:
        data = document.encode(encoding.lower())
    except UnicodeEncodeError:
        return  # not every character has a GB18030 form (none missing in practice, but do not assume)
    assert (parse_xml(data, "a.bpmn", ProcessDefinitionError).text or "") == text.replace("\r", "\n")
