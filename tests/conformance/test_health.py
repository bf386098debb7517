"""§12 health, readiness and metrics endpoints."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from ._api import SERVER, TEXT_PLAIN, Api, Target

KEDA_CT = "text/plain; version=0.0.4; charset=utf-8"
ALWAYS = (
    "objectstore_bytes_total",
    "objectstore_requests_total",
    "objectstore_requests_in_flight",
    "objectstore_requests_limit",
    "objectstore_tasks_running",
    "objectstore_tasks_limit",
)
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)( \d+)?$")


def _metrics(text: str) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        # series with labels are summed per metric name
        values[match.group(1)] = values.get(match.group(1), 0.0) + float(match.group(3))
    return values


def test_health(api: Api) -> None:
    """§12: `GET /health` → 200 `text/plain; charset=utf-8` `OK`, no auth needed."""
    resp = api.request("GET", "/health", auth=False)
    assert resp.status == 200, resp
    assert resp.header("content-type") == TEXT_PLAIN
    assert resp.body == b"OK"
    assert resp.header("server") == SERVER


def test_health_head(api: Api) -> None:
    """§12: HEAD /health also works (no body)."""
    resp = api.request("HEAD", "/health", auth=False)
    assert resp.status == 200, resp
    assert resp.body == b""


def test_health_ignores_bad_credentials(api: Api) -> None:
    """§12: no authentication: even an invalid token does not matter."""
    resp = api.request("GET", "/health", {"x-os-auth": "Bearer not-a-jwt"}, auth=False)
    assert resp.status == 200, resp


@pytest.mark.parametrize("path", ["/ready", "/keda"])
def test_head_on_ready_and_keda(api: Api, path: str) -> None:
    """§2.1: routes with GET also answer HEAD."""
    resp = api.request("HEAD", path, auth=False)
    assert resp.status == 200, resp
    assert resp.body == b""


def test_ready(api: Api) -> None:
    """§12: `GET /ready` → 200 `OK` while not draining."""
    resp = api.request("GET", "/ready", auth=False)
    assert resp.status == 200, resp
    assert resp.body == b"OK"


def test_keda(api: Api) -> None:
    """§12: `GET /keda` → 200 Prometheus text with the always-present series."""
    resp = api.request("GET", "/keda", auth=False)
    assert resp.status == 200, resp
    assert resp.header("content-type") == KEDA_CT
    values = _metrics(resp.text)
    for name in ALWAYS:
        assert name in values, (name, resp.text)


def test_keda_counts_requests(api: Api) -> None:
    """§12: `objectstore_requests_total` counts requests."""
    before = _metrics(api.request("GET", "/keda", auth=False).text)["objectstore_requests_total"]
    for _ in range(3):
        api.get("missing")
    after = _metrics(api.request("GET", "/keda", auth=False).text)["objectstore_requests_total"]
    assert after >= before + 3


@pytest.mark.local_only
def test_keda_limits_only_when_configured(make_server: Callable[..., Target]) -> None:
    """§12: bandwidth/throughput gauges only when those limits are configured."""
    plain = Api(make_server())
    values = _metrics(plain.request("GET", "/keda", auth=False).text)
    assert "objectstore_bandwidth_limit" not in values
    assert "objectstore_throughput_limit" not in values
    limited = Api(make_server(rate_limit_rps=1000.0))
    values = _metrics(limited.request("GET", "/keda", auth=False).text)
    assert "objectstore_throughput_limit" in values


@pytest.mark.local_only
def test_ready_503_while_down_file_exists(make_server: Callable[..., Target]) -> None:
    """§12: `/ready` → 503 `Shutting down` while `<tmp>/objectstore.down` exists."""
    api = Api(make_server())
    down = Path(tempfile.gettempdir()) / "objectstore.down"
    assert not down.exists(), "a real objectstore.down file exists; refusing to touch it"
    down.write_text("")
    try:
        resp = api.request("GET", "/ready", auth=False)
        assert resp.status == 503, resp
        assert resp.body == b"Shutting down"
        assert api.request("GET", "/health", auth=False).status == 200
    finally:
        os.unlink(down)
    assert api.request("GET", "/ready", auth=False).status == 200
