"""Assertions on RFC 9457 problem documents, the one error shape of the API."""

from collections.abc import Sequence
from typing import Any

import httpx

PROBLEM_MEDIA_TYPE = "application/problem+json"
UNKNOWN_ID = "0190c6a0-0000-7000-8000-000000000000"
"""A well-formed id that names no resource."""


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem document, after checking its status and media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = dict(response.json())
    assert body["status"] == status
    return body


def problem_errors(response: httpx.Response, status: int) -> list[dict[str, str]]:
    """The problem's `errors`, after checking its status and media type."""
    return list(assert_problem(response, status)["errors"])


def assert_invalid(response: httpx.Response, *fields: str, location: str = "body") -> None:
    """A 422 whose `errors` name exactly these fields, at this location."""
    errors = problem_errors(response, 422)
    assert {error["field"] for error in errors} == set(fields), errors
    assert {error["location"] for error in errors} == {location}


def assert_header_refused(response: httpx.Response, status: int, header: str) -> None:
    """A problem whose only error is the request header `header`."""
    errors = problem_errors(response, status)
    assert [(error["field"], error["location"]) for error in errors] == [(header, "header")]


def sole_success(responses: Sequence[httpx.Response], status: int, *, refused: int, header: str) -> httpx.Response:
    """Of concurrent responses, the only one with `status`; every other is a `refused` problem naming `header`."""
    successes = [response for response in responses if response.status_code == status]
    assert len(successes) == 1, [response.status_code for response in responses]
    for response in responses:
        if response.status_code != status:
            assert_header_refused(response, refused, header)
    return successes[0]
