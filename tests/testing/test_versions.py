"""`LocalServer` configuration: one `ServerConfig`, and the server version axis."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import urllib3

from objectstore_client.testing import ConfigError, LocalServer, ServerConfig, UsecasePolicy
from objectstore_client.testing.__main__ import _parser, build_config


def _allow(server: LocalServer) -> str | None:
    resp = urllib3.request("POST", f"{server.url}/v1/objects/u/_/k")
    assert resp.status == 405
    return resp.headers.get("allow")


def test_config_object_and_keywords_agree() -> None:
    """`LocalServer(config)` and `LocalServer(**settings)` build the same `ServerConfig`."""
    config = ServerConfig(storage="memory", server_version="0.2.0", max_requests=7)
    assert LocalServer(config).config == config
    assert LocalServer(config=config).config == config
    assert LocalServer(storage="memory", server_version="0.2.0", max_requests=7).config == config


def test_keywords_override_the_config() -> None:
    base = ServerConfig(storage="memory", server_version="0.2.0")
    server = LocalServer(base, server_version="current", semantics="filesystem")
    assert server.config == dataclasses.replace(
        base, server_version="current", semantics="filesystem"
    )


def test_every_config_field_is_a_keyword() -> None:
    """The keyword arguments are derived from `ServerConfig`: no field is left out."""
    defaults = ServerConfig()
    for field in dataclasses.fields(ServerConfig):
        server = LocalServer(**{field.name: getattr(defaults, field.name)})
        assert server.config == defaults, field.name


def test_convenient_forms_are_normalised(tmp_path: Path) -> None:
    server = LocalServer(data_dir=str(tmp_path), auth_keys=None, usecases=None, killswitches=[])
    assert server.config.data_dir == tmp_path
    assert server.config.auth_keys == {}
    assert server.config.usecases == {}
    assert server.config.killswitches == ()


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="serverversion"):
        LocalServer(serverversion="current")


def test_unknown_version_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="server_version"):
        LocalServer(server_version="0.3.0")


@pytest.mark.parametrize(
    ("settings", "allow"),
    [
        pytest.param({}, "GET,HEAD,PUT,PATCH,DELETE", id="current-default"),
        pytest.param({"server_version": "0.2.0"}, "GET,HEAD,PUT,DELETE", id="0.2.0-default"),
        pytest.param(
            {"server_version": "0.2.0", "extend_expiry": True},
            "GET,HEAD,PUT,PATCH,DELETE",
            id="0.2.0-with-patch",
        ),
        pytest.param({"extend_expiry": False}, "GET,HEAD,PUT,DELETE", id="current-without-patch"),
    ],
)
def test_patch_follows_the_version_unless_forced(settings: dict[str, Any], allow: str) -> None:
    with LocalServer(storage="memory", **settings) as server:
        assert _allow(server) == allow


def test_versions_answer_head_differently() -> None:
    for version, status in (("current", 200), ("0.2.0", 204)):
        with LocalServer(storage="memory", server_version=version) as server:
            url = f"{server.url}/v1/objects/u/_/k"
            assert urllib3.request("PUT", url, body=b"abc").status == 200
            resp = urllib3.request("HEAD", url)
            assert resp.status == status, version
            assert resp.headers.get("x-sn-size") == ("3" if version == "current" else None)


def test_0_2_0_uses_per_kind_maximum_and_current_the_single_one() -> None:
    policy = UsecasePolicy(max_ttl=timedelta(hours=1), max=timedelta(hours=3))
    for version, status in (("current", 200), ("0.2.0", 400)):
        with LocalServer(storage="memory", server_version=version, usecases={"u": policy}) as s:
            resp = urllib3.request(
                "PUT", f"{s.url}/v1/objects/u/_/k", body=b"x", headers={"x-sn-expiration": "ttl:2h"}
            )
            assert resp.status == status, (version, resp.data)


@pytest.mark.parametrize("version", ["current", "0.2.0"])
def test_cli_server_version(version: str) -> None:
    args = _parser().parse_args(["--server-version", version])
    assert build_config(args, {}).server_version == version


def test_cli_defaults_to_current() -> None:
    assert build_config(_parser().parse_args([]), {}).server_version == "current"


def test_cli_rejects_unknown_versions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["--server-version", "1.0"])
    assert "--server-version" in capsys.readouterr().err


def test_fixture_server_speaks_current(objectstore_server: LocalServer) -> None:
    assert objectstore_server.config.server_version == "current"
