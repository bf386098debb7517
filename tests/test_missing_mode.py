"""`Client(missing="raise" | "none")`: what `get` and `head` do about a missing object.

The `assert_type` lines are checked by the project's `mypy --strict` run over tests/: the
types a user's type checker sees must match the mode.
"""

from __future__ import annotations

from typing import Literal, assert_type

import pytest

from objectstore_client import Client, GetResponse, Metadata, ObjectNotFound, Session, Usecase
from objectstore_client.errors import InvalidArgument


def test_default_raises(objectstore_url: str, objectstore_usecase: str) -> None:
    with Client(objectstore_url) as client:
        assert_type(client, Client[Literal["raise"]])
        session = client.session(Usecase(objectstore_usecase))
        assert_type(session, Session[Literal["raise"]])
        with pytest.raises(ObjectNotFound):
            session.get("missing")
        with pytest.raises(ObjectNotFound):
            session.head("missing")
        session.put(b"here", key="here")
        assert_type(session.get("here"), GetResponse)
        assert_type(session.head("here"), Metadata)
        assert session.get("here").payload.read() == b"here"


def test_none_mode_returns_none(objectstore_url: str, objectstore_usecase: str) -> None:
    with Client(objectstore_url, missing="none") as client:
        assert_type(client, Client[Literal["none"]])
        session = client.session(Usecase(objectstore_usecase), org=1)
        assert_type(session, Session[Literal["none"]])
        assert session.get("missing") is None
        assert session.head("missing") is None
        session.put(b"here", key="here")
        found = session.get("here")
        assert_type(found, GetResponse | None)
        assert found is not None
        assert found.payload.read() == b"here"
        metadata = session.head("here")
        assert_type(metadata, Metadata | None)
        assert metadata is not None
        # Other errors still raise, and the *_or_none helpers behave the same.
        assert session.get_or_none("missing") is None
        with pytest.raises(InvalidArgument):
            session.get("")


def test_explicit_raise_mode(objectstore_url: str, objectstore_usecase: str) -> None:
    with Client(objectstore_url, missing="raise") as client:
        assert_type(client, Client[Literal["raise"]])
        with pytest.raises(ObjectNotFound):
            client.session(Usecase(objectstore_usecase)).get("missing")


def test_a_mode_chosen_at_run_time(objectstore_url: str, objectstore_usecase: str) -> None:
    mode: Literal["raise", "none"] = "none"
    with Client(objectstore_url, missing=mode) as client:
        session = client.session(Usecase(objectstore_usecase))
        # Either mode: the type admits both answers.
        assert_type(session.get("missing"), GetResponse | None)
        assert_type(session.head("missing"), Metadata | None)
        assert session.get("missing") is None
        assert session.head("missing") is None


def annotated(session: Session) -> GetResponse:
    # A bare `Session` annotation means the default mode, as in 0.0.19 code.
    return session.get("k")


@pytest.mark.parametrize("missing", ["ignore", "None", None, True, ""])
def test_bad_missing_fails_before_any_request(dead_url: str, missing: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        Client(dead_url, missing=missing)  # type: ignore[type-var]
    assert info.value.argument == "missing"
    assert "'raise' or 'none'" in str(info.value)
