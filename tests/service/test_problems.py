"""Every class of the error tree maps to a 4xx or 5xx status on purpose (a row of its own in ERROR_STATUS),
and a 5xx problem says nothing of the error's text or fields."""

from __future__ import annotations

from efficacy_flow import errors
from efficacy_flow.service import ERROR_STATUS
from efficacy_flow.service._problems import error_body


def test_every_error_class_has_its_own_status() -> None:
    classes = [getattr(errors, name) for name in errors.__all__]
    assert set(ERROR_STATUS) == set(classes)  # listed one by one, none left to inheritance
    assert all(400 <= status < 600 and title for status, title in ERROR_STATUS.values())
    assert ERROR_STATUS[errors.NotAuthorized][0] == 403
    assert ERROR_STATUS[errors.ConcurrentUpdate][0] == 409
    assert ERROR_STATUS[errors.InvalidData][0] == 422
    assert {ERROR_STATUS[c][0] for c in classes if issubclass(c, errors.NotFound)} == {404}


def test_problems_carry_the_fields_of_4xx_errors_and_nothing_of_5xx_ones() -> None:
    invalid = errors.InvalidData("bad", [{"field": "title", "problem": "missing"}], where="start")
    status, body = error_body(invalid)
    assert (status, body["errors"], body["where"], body["detail"]) == (422, invalid.errors, "start", "bad")
    status, body = error_body(errors.StoreError("syntax error near 'secret-value'", value="secret-value"))
    assert status == 503
    assert "secret-value" not in str(body)
    assert set(body) == {"type", "title", "status", "detail", "error"}
