from __future__ import annotations

import pytest

from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.scope import SCOPE_VALUE_ALLOWED_CHARS, Scope

ALLOWED_SORTED = "!$'()+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def test_renders_components_in_order():
    assert str(Scope(org=42, project=1337)) == "org=42;project=1337"
    assert str(Scope(project=1337, org=42)) == "project=1337;org=42"
    assert Scope(org=42, project=1337) != Scope(project=1337, org=42)


def test_empty_scope_is_the_empty_string_as_in_0_0_19():
    assert str(Scope()) == ""


def test_dict_returns_values_as_given():
    assert Scope(org=1, flag=True, name="x").dict() == {"org": 1, "flag": True, "name": "x"}


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        pytest.param(0, "org=0", id="zero"),
        pytest.param(False, "org=False", id="false"),
        pytest.param(True, "org=True", id="true"),
        pytest.param("0", "org=0", id="string-zero"),
    ],
)
def test_falsy_values_are_accepted(value, rendered):
    assert str(Scope(org=value)) == rendered


def test_every_allowed_character_is_accepted():
    text = "".join(sorted(SCOPE_VALUE_ALLOWED_CHARS))
    assert str(Scope(**{text: text})) == f"{text}={text}"


@pytest.mark.parametrize("char", [".", "/", "=", ";", "*", " ", "é", "%", ":"])
def test_invalid_value_character_names_the_scope_and_lists_allowed_characters(char):
    with pytest.raises(InvalidArgument) as info:
        Scope(org=f"a{char}b")
    assert info.value.argument == "scope 'org'"
    assert repr(char)[1:-1] in str(info.value)
    assert ALLOWED_SORTED in str(info.value)


def test_error_message_is_stable():
    with pytest.raises(InvalidArgument) as info:
        Scope(org="a.b/c")
    assert str(info.value) == (
        f"invalid scope 'org': 'a.b/c' contains './'; allowed characters are {ALLOWED_SORTED}"
    )


def test_invalid_name():
    with pytest.raises(InvalidArgument, match="scope name"):
        Scope(**{"a.b": 1})


@pytest.mark.parametrize("name", ["", "org"])
def test_empty_components_are_rejected(name):
    with pytest.raises(InvalidArgument, match="must not be empty"):
        Scope(**{name: ""})


@pytest.mark.parametrize("value", [None, 1.5, b"x", [1]])
def test_wrong_value_type(value):
    with pytest.raises(InvalidArgumentType, match="scope 'org'"):
        Scope(org=value)


def test_hashable_and_repr():
    assert len({Scope(org=1), Scope(org="1")}) == 1
    assert repr(Scope(org=1)) == "Scope(org=1)"
