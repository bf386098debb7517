"""§5 metadata: request headers on writes, response headers on reads, their grammars."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._api import (
    TIMESTAMP_RE,
    WHOLE_SECOND_RE,
    Api,
    assert_json_error,
    assert_metadata_error,
    now,
    parse_ts,
    pct_echo,
    uniq,
    within,
)
from ._wire import Headers

V020 = pytest.mark.server_version("0.2.0")


def _store(api: Api, headers: Headers, body: bytes = b"payload") -> str:
    key = uniq()
    api.put_ok(key, body, headers)
    return key


# -- §5.1/§5.2 basics ----------------------------------------------------------------------


def test_default_content_type(api: Api) -> None:
    """§5.1/§14: without `content-type` the object is `application/octet-stream`."""
    key = _store(api, {})
    assert api.get(key).header("content-type") == "application/octet-stream"
    assert api.head(key).header("content-type") == "application/octet-stream"


def test_read_headers_are_complete_and_minimal(api: Api) -> None:
    """§5.2: GET carries exactly the metadata headers; no size, etag or caching headers."""
    key = _store(
        api,
        {
            "content-type": "text/plain",
            "x-sn-expiration": "ttl:1h",
            "x-sn-origin": "10.0.0.1",
            "x-sn-filename": "f.txt",
            "x-snme-build": "7",
        },
    )
    resp = api.get(key)
    assert resp.status == 200, resp
    names = {n for n in resp.names if n not in ("date", "server", "transfer-encoding")}
    assert names == {
        "content-type",
        "x-sn-expiration",
        "x-sn-time-created",
        "x-sn-time-expires",
        "x-sn-origin",
        "x-sn-filename",
        "x-snme-build",
        "content-disposition",
        "accept-ranges",
        # Today's server adds the sizes (protocol §6.3).
        *(("content-length", "x-sn-size") if api.target.current else ()),
    }, resp.headers


def test_minimal_object_headers(api: Api) -> None:
    """§5.2: an object written without metadata reads back with only type and creation time."""
    key = _store(api, {})
    resp = api.get(key)
    names = {n for n in resp.names if n not in ("date", "server", "transfer-encoding")}
    minimal = {"content-type", "x-sn-time-created", "accept-ranges"}
    if api.target.current:
        # Sizes (protocol §6.3), and possibly a bare `content-disposition: attachment` (the
        # newest server code sends it; the sources do not pin down which servers do, §5.7).
        minimal |= {"content-length", "x-sn-size"}
        assert minimal <= names <= minimal | {"content-disposition"}, resp.headers
    else:
        assert names == minimal, resp.headers


def test_head_carries_same_metadata_as_get(api: Api) -> None:
    """§6.4: HEAD has the same metadata headers as GET."""
    key = _store(
        api,
        {
            "content-type": "image/png",
            "content-encoding": "zstd",
            "x-sn-expiration": "tti:2h",
            "x-sn-origin": "o",
            "x-sn-filename": "p.png",
            "x-snme-a": "1",
            "x-snme-b": "2",
        },
    )
    get, head = api.get(key), api.head(key)
    assert (get.status, head.status) == (200, 200 if api.target.current else 204)
    # 0.2.0: GET is chunked and HEAD says `content-length: 0`; today both carry the size.
    skip = {"date", "transfer-encoding", *(() if api.target.current else ("content-length",))}
    assert sorted(h for h in get.headers if h[0] not in skip) == sorted(
        h for h in head.headers if h[0] not in skip
    )


# -- §5.3 content-type ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("text/plain", id="simple"),
        pytest.param('Text/Plain; Charset="UTF-8"', id="case-and-quotes-kept"),
        pytest.param("text/plain ; a=b", id="space-before-semicolon"),
        pytest.param("*/*", id="wildcards"),
        pytest.param("application/vnd.api+json", id="suffix"),
        pytest.param("text/plain;", id="trailing-semicolon"),
        pytest.param('text/plain; a="b\\"c"', id="quoted-escape"),
        pytest.param("text/plain;\ta=b", id="tab-ows"),
        pytest.param("text/plain;a=b", id="no-ows"),
        pytest.param("image/png; a=b; c=d", id="two-params"),
        pytest.param("a!#$&-^_.+%*'/b!#$&-^_.+%*'", id="every-token-char"),
        pytest.param("x/" + "y" * 127, id="127-char-subtype"),
        pytest.param("text/plain; charset=", id="empty-param-value"),
        pytest.param("application/foo+xy", id="two-char-suffix"),
    ],
)
def test_content_type_accepted_and_stored_verbatim(api: Api, content_type: str) -> None:
    """§5.3: an accepted media type is stored and echoed exactly as sent."""
    key = uniq()
    resp = api.put(key, b"x", {"content-type": content_type})
    assert resp.status == 200, resp
    assert api.get(key).header("content-type") == content_type


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"text", id="no-subtype"),
        pytest.param(b"text//plain", id="double-slash"),
        pytest.param(b"text/plain;;", id="double-semicolon"),
        pytest.param(b"text/plain; charset", id="param-without-value"),
        pytest.param(b"text/plain garbage", id="garbage"),
        pytest.param(b"/plain", id="empty-type"),
        pytest.param(b"text/", id="empty-subtype"),
        pytest.param(b"te xt/plain", id="space-in-type"),
        pytest.param(b"text/pl@in", id="bad-char"),
        pytest.param(b"x/" + b"y" * 128, id="128-char-subtype"),
        pytest.param(b'text/plain; a="open', id="unterminated-quote"),
        pytest.param(b"text/plain; =b", id="empty-param-name"),
        pytest.param(b"text/plain; -a=b", id="param-name-starting-with-dash"),
        pytest.param(b"application/foo+x", id="one-char-suffix"),
        pytest.param(b"application/foo+", id="trailing-plus"),
        pytest.param("t\u00e9xt/plain".encode(), id="non-ascii"),
    ],
)
def test_content_type_rejected(api: Api, content_type: bytes) -> None:
    """§5.3: media types outside the grammar → 400 JSON, nothing stored."""
    key = uniq()
    resp = api.put(key, b"x", [("content-type", content_type)])
    assert_metadata_error(api, resp)
    assert api.get(key).status == 404


# -- §5.6 content-encoding -----------------------------------------------------------------


def test_content_encoding_zstd_echoed(api: Api) -> None:
    """§5.1/§5.6: `zstd` is recorded and echoed on GET and HEAD."""
    key = _store(api, {"content-encoding": "zstd"})
    assert api.get(key).header("content-encoding") == "zstd"
    assert api.head(key).header("content-encoding") == "zstd"


def test_no_content_encoding_when_absent(api: Api) -> None:
    """§5.2: `content-encoding` only when stored compressed."""
    key = _store(api, {})
    assert not api.get(key).has("content-encoding")


@pytest.mark.parametrize(
    "encoding",
    ["identity", "GZIP", "ZSTD", "Zstd", "zstd, zstd", "zstd,gzip", "br", "", "zst"],
)
def test_content_encoding_other_than_zstd_rejected(api: Api, encoding: str) -> None:
    """§5.1/§19.5: anything but exactly `zstd` (or, today, `gzip`), even `identity` → 400."""
    key = uniq()
    resp = api.put(key, b"x", {"content-encoding": encoding})
    assert_metadata_error(api, resp, "invalid compression value")
    assert api.get(key).status == 404


@V020
def test_content_encoding_gzip_rejected_by_0_2_0(api: Api) -> None:
    """§5.1/§19.5: the 0.2.0 release accepts only `zstd`; `gzip` → 400."""
    key = uniq()
    resp = api.put(key, b"x", {"content-encoding": "gzip"})
    assert_metadata_error(api, resp, "invalid compression value")
    assert api.get(key).status == 404


# -- §5.1 origin, filename, custom ---------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("203.0.113.7", id="ip"),
        pytest.param("a%20b", id="percent-kept"),
        pytest.param("semi;colon, comma \"quote\" 'apos'", id="punctuation"),
        pytest.param("~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./", id="all-symbols"),
        pytest.param("inner\ttab", id="inner-tab"),
    ],
)
def test_origin_filename_custom_verbatim(api: Api, value: str) -> None:
    """§5.1: visible-ASCII values are stored and echoed as sent (codec of §5.8 today).

    0.2.0 echoes them byte-for-byte; today's server percent-decodes them on write and
    encodes `%`, controls and non-ASCII on read.
    """
    key = _store(api, {"x-sn-origin": value, "x-sn-filename": value, "x-snme-val": value})
    resp = api.get(key)
    echoed = pct_echo(value) if api.target.current else value
    assert resp.header("x-sn-origin") == echoed
    assert resp.header("x-sn-filename") == echoed
    assert resp.header("x-snme-val") == echoed


def test_origin_not_auto_filled(api: Api) -> None:
    """§5.1: `x-sn-origin` is not filled in by the server."""
    key = _store(api, {})
    assert not api.get(key).has("x-sn-origin")


def test_surrounding_whitespace_trimmed(api: Api) -> None:
    """§5.1: leading/trailing whitespace of values is trimmed by the HTTP parser."""
    key = _store(api, [("x-sn-origin", "  padded \t"), ("x-snme-w", "\t w  ")])
    resp = api.get(key)
    assert resp.header("x-sn-origin") == "padded"
    assert resp.header("x-snme-w") == "w"


@pytest.mark.parametrize("header", ["x-sn-origin", "x-sn-filename", "x-snme-meta"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"caf\xc3\xa9", id="utf8"),
        pytest.param(b"caf\xe9", id="latin1"),
        pytest.param(b"\x80", id="0x80"),
    ],
)
def test_non_visible_ascii_value_rejected(api: Api, header: str, value: bytes) -> None:
    """§5.1/§19.11: any byte outside 0x20-0x7E (and tab) → 400 metadata error."""
    key = uniq()
    resp = api.put(key, b"x", [(header, value)])
    assert_metadata_error(api, resp, cause_0_2_0="error dealing with http headers")
    assert api.get(key).status == 404


@pytest.mark.parametrize(
    "value", [pytest.param(b"a\x01b", id="control"), pytest.param(b"a\x7fb", id="del")]
)
def test_control_bytes_in_value_rejected(api: Api, value: bytes) -> None:
    """§5.1: control bytes are not visible ASCII → 400 (possibly from the HTTP parser)."""
    key = uniq()
    assert api.put(key, b"x", [("x-sn-origin", value)]).status == 400
    assert api.get(key).status == 404


def test_custom_metadata_names_lower_cased(api: Api) -> None:
    """§5.1/§5.8: `x-snme-BuildId` is stored as `buildid`."""
    key = _store(api, [("X-SNME-BuildId", "42")])
    resp = api.get(key)
    assert resp.header("x-snme-buildid") == "42"
    assert [n for n in resp.names if n.lower().startswith("x-snme-")] == ["x-snme-buildid"]


def test_custom_metadata_sorted_by_name(api: Api) -> None:
    """§5.2: custom entries are emitted one per header, sorted by name (byte order)."""
    headers = [("x-snme-b", "2"), ("x-snme-c-1", "4"), ("x-snme-a", "1"), ("x-snme-C", "3")]
    key = _store(api, headers)
    for resp in (api.get(key), api.head(key)):
        got = [(n, v) for n, v in resp.headers if n.startswith("x-snme-")]
        assert got == [
            ("x-snme-a", "1"),
            ("x-snme-b", "2"),
            ("x-snme-c", "3"),
            ("x-snme-c-1", "4"),
        ], resp.headers


def test_custom_metadata_empty_name(api: Api) -> None:
    """§5.1: the custom name is the rest of the header name and may be empty."""
    key = _store(api, [("x-snme-", "nameless")])
    assert api.get(key).header("x-snme-") == "nameless"


def test_many_custom_entries(api: Api) -> None:
    """§5.1: no limit on the number of entries below the transport's 100 headers."""
    headers = [(f"x-snme-k{i:02d}", f"v{i}") for i in range(80)]
    key = _store(api, headers)
    resp = api.get(key)
    assert [(n, v) for n, v in resp.headers if n.startswith("x-snme-")] == headers


@pytest.mark.parametrize(
    ("headers", "name", "value"),
    [
        pytest.param(
            [("x-sn-origin", "first"), ("x-sn-origin", "second")], "x-sn-origin", "second", id="o"
        ),
        pytest.param([("x-snme-a", "1"), ("x-snme-a", "2")], "x-snme-a", "2", id="custom"),
        pytest.param(
            [("x-snme-A", "upper"), ("x-snme-a", "lower")], "x-snme-a", "lower", id="custom-case"
        ),
        pytest.param(
            [("content-type", "text/plain"), ("content-type", "text/html")],
            "content-type",
            "text/html",
            id="content-type",
        ),
        pytest.param(
            [("x-sn-filename", "a"), ("x-sn-filename", "b")], "x-sn-filename", "b", id="filename"
        ),
    ],
)
def test_duplicate_header_last_wins(
    api: Api, headers: list[tuple[str, str]], name: str, value: str
) -> None:
    """§5.1: if a header occurs several times, the last occurrence wins."""
    key = _store(api, headers)
    resp = api.get(key)
    assert resp.all(name) == [value], resp.headers


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([("content-encoding", "br"), ("content-encoding", "zstd")], id="encoding"),
        pytest.param([("content-type", "bad"), ("content-type", "text/plain")], id="type"),
        pytest.param([("x-sn-expiration", "nope"), ("x-sn-expiration", "ttl:1h")], id="expiry"),
        pytest.param([("x-sn-origin", b"\xff"), ("x-sn-origin", "ok")], id="origin"),
    ],
)
def test_duplicate_header_every_occurrence_validated(
    api: Api, headers: list[tuple[str, str | bytes]]
) -> None:
    """§5.1: every occurrence of a repeated metadata header is validated."""
    key = uniq()
    assert_json_error(api.put(key, b"x", headers), 400)


def test_ignored_request_headers(api: Api) -> None:
    """§5.1: server-computed and unknown headers are ignored on writes (not even validated)."""
    key = _store(
        api,
        {
            "x-sn-time-created": "2000-01-01T00:00:00.000000Z",
            "x-sn-time-expires": "not a timestamp",
            "content-disposition": 'attachment; filename="evil.exe"',
            "x-sn-size": "12345",
            "x-sn-something": "else",
            "cache-control": "max-age=60",
            "etag": '"abc"',
            "last-modified": "Wed, 21 Oct 2015 07:28:00 GMT",
        },
    )
    resp = api.get(key)
    if api.target.current:
        # Today's server computes the size and may send a bare `attachment` (§5.7).
        assert resp.header("x-sn-size") == str(len(b"payload")), resp.headers
        assert resp.header("content-disposition") in (None, "attachment"), resp.headers
    else:
        assert not resp.has("content-disposition"), resp.headers
        assert not resp.has("x-sn-size"), resp.headers
    for absent in (
        "x-sn-time-expires",
        "x-sn-something",
        "cache-control",
        "etag",
        "last-modified",
        "x-sn-expiration",
    ):
        assert not resp.has(absent), (absent, resp.headers)
    created = parse_ts(resp.header("x-sn-time-created") or "")
    assert created.year != 2000
    assert within(created, now(), 300)


@V020
def test_no_size_or_length_on_reads(api: Api) -> None:
    """§5.2/§19.3: 0.2.0 has no size header; GET 200 is chunked, HEAD 204 says length 0."""
    key = _store(api, {}, body=b"x" * 1000)
    get, head = api.get(key), api.head(key)
    assert not get.has("content-length"), get.headers
    assert head.all("content-length") == ["0"], head.headers
    for resp in (get, head):
        assert not any(n.startswith("x-sn-size") for n in resp.names)


# -- §5.4 expiration grammar ---------------------------------------------------------------

ACCEPTED_EXPIRATIONS = [
    ("ttl:30s", "ttl:30s"),
    ("tti:1h", "tti:1h"),
    ("ttl:1 days", "ttl:1day"),
    ("ttl:1 days 3600 seconds", "ttl:1day 1h"),
    ("ttl:1d", "ttl:1day"),
    ("ttl:400d 1m 30s", "ttl:1year 1month 4days 7h 27m 54s"),
    ("tti:2h37min", "tti:2h 37m"),
    ("ttl:1.5h", "ttl:1h 30m"),
    ("tti:1.5h", "tti:1h 30m"),
    ("ttl:60s", "ttl:1m"),
    ("ttl:90s", "ttl:1m 30s"),
    ("ttl:3600s", "ttl:1h"),
    ("ttl:86400s", "ttl:1day"),
    ("ttl:90000s", "ttl:1day 1h"),
    ("ttl:172800s", "ttl:2days"),
    ("ttl:7d", "ttl:7days"),
    ("ttl:30d", "ttl:30days"),
    ("ttl:31d", "ttl:1month 13h 26m 24s"),
    ("ttl:90d", "ttl:2months 29days 2h 52m 48s"),
    ("ttl:365d", "ttl:11months 30days 3h 50m 24s"),
    ("ttl:365.25d", "ttl:1year"),
    ("ttl:1y 1M 1w 1d 1h 1m 1s", "ttl:1year 1month 8days 1h 1m 1s"),
    ("ttl:45sec", "ttl:45s"),
    ("ttl:45secs", "ttl:45s"),
    ("ttl:45second", "ttl:45s"),
    ("ttl:45seconds", "ttl:45s"),
    ("ttl:2m", "ttl:2m"),
    ("ttl:2min", "ttl:2m"),
    ("ttl:2mins", "ttl:2m"),
    ("ttl:2minute", "ttl:2m"),
    ("ttl:2minutes", "ttl:2m"),
    ("ttl:1hr", "ttl:1h"),
    ("ttl:1hrs", "ttl:1h"),
    ("ttl:1hour", "ttl:1h"),
    ("ttl:2hours", "ttl:2h"),
    ("ttl:1day", "ttl:1day"),
    ("ttl:2days", "ttl:2days"),
    ("ttl:1w", "ttl:7days"),
    ("ttl:1wk", "ttl:7days"),
    ("ttl:1wks", "ttl:7days"),
    ("ttl:1week", "ttl:7days"),
    ("ttl:2weeks", "ttl:14days"),
    ("ttl:1M", "ttl:1month"),
    ("ttl:1month", "ttl:1month"),
    ("ttl:2months", "ttl:2months"),
    ("ttl:1y", "ttl:1year"),
    ("ttl:1yr", "ttl:1year"),
    ("ttl:1yrs", "ttl:1year"),
    ("ttl:1year", "ttl:1year"),
    ("ttl:2years", "ttl:2years"),
    ("ttl:2y", "ttl:2years"),
    ("ttl:1h 1500ms", "ttl:1h 1s 500ms"),
    ("ttl:1h 1.5s", "ttl:1h 1s 500ms"),
    ("ttl:1h 1msec", "ttl:1h 1ms"),
    ("ttl:1h 1millis", "ttl:1h 1ms"),
    ("ttl:1h 1us", "ttl:1h 1us"),
    ("ttl:1h 1usec", "ttl:1h 1us"),
    ("ttl:1h 1ns", "ttl:1h 1ns"),
    ("ttl:1h 1nsec", "ttl:1h 1ns"),
    ("ttl:1h 1nanos", "ttl:1h 1ns"),
    ("ttl:1h 2ms 3us 4ns", "ttl:1h 2ms 3us 4ns"),
    ("ttl:3600000ms", "ttl:1h"),
    ("ttl:3600000000000ns", "ttl:1h"),
    ("ttl:0.5m", "ttl:30s"),
    ("ttl:1.5d", "ttl:1day 12h"),
    ("ttl:1 0m", "ttl:10m"),
    ("ttl:1 h", "ttl:1h"),
    ("ttl: 1h", "ttl:1h"),
    ("ttl:1h30m", "ttl:1h 30m"),
    ("ttl:1h   30m", "ttl:1h 30m"),
    ("ttl:30m 1h", "ttl:1h 30m"),
    ("ttl:90m", "ttl:1h 30m"),
    # The longest fraction humantime 2.4.0 takes: 19 digits (20 overflow, see below).
    ("ttl:1.0000000000000000000s", "ttl:1s"),
    ("ttl:1.123456789m", "ttl:1m 7s 407ms 407us 340ns"),
]


@V020
@pytest.mark.parametrize(
    ("sent", "echoed"), [pytest.param(s, e, id=s) for s, e in ACCEPTED_EXPIRATIONS]
)
def test_expiration_accepted_and_echoed_canonically(api: Api, sent: str, echoed: str) -> None:
    """§5.4.1/§5.4.2/§19.8: humantime input grammar, canonical humantime output."""
    key = uniq()
    resp = api.put(key, b"x", {"x-sn-expiration": sent})
    assert resp.status == 200, resp
    got = api.get(key)
    assert got.status == 200, got
    assert got.header("x-sn-expiration") == echoed
    assert got.has("x-sn-time-expires")


def _humantime(seconds: int, nanos: int) -> str:
    """§5.4.2's output algorithm, written out independently."""
    if seconds == 0 and nanos == 0:
        return "0s"
    years, rest = divmod(seconds, 31_557_600)
    months, rest = divmod(rest, 2_630_016)
    days, rest = divmod(rest, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for value, unit, plural in (
        (years, "year", True),
        (months, "month", True),
        (days, "day", True),
        (hours, "h", False),
        (minutes, "m", False),
        (secs, "s", False),
        (nanos // 1_000_000, "ms", False),
        (nanos // 1000 % 1000, "us", False),
        (nanos % 1000, "ns", False),
    ):
        if value:
            parts.append(f"{value}{unit}{'s' if plural and value > 1 else ''}")
    return " ".join(parts)


@settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seconds=st.integers(min_value=60, max_value=300 * 31_557_600),
    nanos=st.integers(min_value=0, max_value=999_999_999),
    kind=st.sampled_from(["ttl", "tti"]),
)
@V020
def test_expiration_output_matches_algorithm(api: Api, seconds: int, nanos: int, kind: str) -> None:
    """§5.4.2: any duration is echoed in humantime's canonical form."""
    sent = f"{kind}:{seconds}s" + (f" {nanos}ns" if nanos else "")
    key = uniq()
    assert api.put(key, b"x", {"x-sn-expiration": sent}).status == 200
    assert api.head(key).header("x-sn-expiration") == f"{kind}:{_humantime(seconds, nanos)}"


@pytest.mark.parametrize("value", ["manual", "  manual  "])
def test_manual_expiration_has_no_expiry_headers(api: Api, value: str) -> None:
    """§5.4.1/§5.2: `manual` equals no header: no `x-sn-expiration`, no `x-sn-time-expires`."""
    key = _store(api, {"x-sn-expiration": value})
    resp = api.get(key)
    assert not resp.has("x-sn-expiration")
    assert not resp.has("x-sn-time-expires")


@pytest.mark.parametrize(
    "value",
    [
        "TTL:1h",
        "TTI:1h",
        "Manual",
        "ttl",
        "tti",
        "ttl:",
        "garbage",
        "",
        "ttx:1h",
        "manual:1h",
        "ttl=1h",
        "ttl:1",
        "ttl:10",
        "ttl:h",
        "ttl:1x",
        "ttl:1hh",
        "ttl:-1h",
        "ttl:+1h",
        "ttl:1.h",
        "ttl:.5h",
        "ttl:0.3333h",
        "ttl:1.5ns",
        "ttl:1H",
        "ttl:1D",
        "ttl:1S",
        "ttl:1h!",
        "ttl:1h,2m",
        "ttl:1e3s",
        "ttl:99999999999999999999s",
        "ttl:1h 5",
        # humantime 2.4.0 counts in checked unsigned 64 bits at every step, not only the
        # total: an item's nanoseconds, a fraction's 20th digit, a fraction's nanoseconds.
        "ttl:18446744073709551615ms",
        "ttl:1.00000000000000000000s",
        "ttl:1.1234567891m",
    ],
)
def test_expiration_rejected(api: Api, value: str) -> None:
    """§5.4.1: anything outside the grammar → 400 JSON, nothing stored."""
    key = uniq()
    resp = api.put(key, b"x", {"x-sn-expiration": value})
    assert_metadata_error(api, resp, "invalid expiration policy value")
    assert api.get(key).status == 404


def test_expiration_non_ascii_unit_rejected(api: Api) -> None:
    """§5.1/§5.4.1: `µs` is a humantime unit but not visible ASCII, so the header fails."""
    resp = api.put(uniq(), b"x", [("x-sn-expiration", "ttl:1h 5\u00b5s".encode())])
    assert_json_error(resp, 400)


def test_zero_duration_accepted(api: Api) -> None:
    """§5.4.1: `ttl:0` and `ttl:0s` are valid policies."""
    assert api.put(uniq(), b"x", {"x-sn-expiration": "ttl:0"}).status == 200
    assert api.put(uniq(), b"x", {"x-sn-expiration": "ttl:0s"}).status == 200


@V020
@pytest.mark.profile("filesystem")
@pytest.mark.parametrize("value", ["ttl:0", "ttl:0s", "tti:0"])
def test_zero_duration_echoed_as_0s(api: Api, value: str) -> None:
    """§5.4.2: a zero duration renders as `0s` ([FS] serves it although already expired)."""
    key = _store(api, {"x-sn-expiration": value})
    resp = api.get(key)
    assert resp.header("x-sn-expiration") == value.split(":")[0] + ":0s"
    assert resp.header("x-sn-time-expires") == resp.header("x-sn-time-created")


@V020
def test_clock_overflowing_duration_is_500(api: Api) -> None:
    """§5.4.1: a duration that overflows the clock makes the write fail with 500."""
    key = uniq()
    resp = api.put(key, b"x", {"x-sn-expiration": "ttl:18446744073709551615s"})
    assert resp.status == 500, resp


@V020
def test_expiry_after_year_9999_written_but_unreadable(api: Api) -> None:
    """§5.4.1: an expiry instant after year 9999 can be written, but GET/HEAD then fail 500."""
    key = uniq()
    assert api.put(key, b"x", {"x-sn-expiration": "ttl:10000y"}).status == 200
    assert api.get(key).status == 500
    assert api.head(key).status == 500


# -- §5.5 timestamps -----------------------------------------------------------------------


def test_timestamps_format_and_ttl_arithmetic(api: Api) -> None:
    """§5.4.1/§5.5: RFC 3339 timestamps with `Z`; expires = created + duration.

    6 fractional digits on 0.2.0, whole seconds today.
    """
    key = _store(api, {"x-sn-expiration": "ttl:1day 1h 1s"})
    resp = api.get(key)
    form = WHOLE_SECOND_RE if api.target.current else TIMESTAMP_RE
    for name in ("x-sn-time-created", "x-sn-time-expires"):
        assert form.match(resp.header(name) or ""), resp.headers
    created = parse_ts(resp.header("x-sn-time-created") or "")
    expires = parse_ts(resp.header("x-sn-time-expires") or "")
    assert expires - created == timedelta(days=1, hours=1, seconds=1)
    assert within(created, now(), 300), created


def test_tti_expiry_computed_at_write(api: Api) -> None:
    """§5.4.1: for TTI too, expires = created + duration at write time."""
    key = _store(api, {"x-sn-expiration": "tti:2h"})
    resp = api.head(key)
    created = parse_ts(resp.header("x-sn-time-created") or "")
    expires = parse_ts(resp.header("x-sn-time-expires") or "")
    assert expires - created == timedelta(hours=2)


def test_time_created_reset_on_overwrite(api: Api) -> None:
    """§5.5/§6.2: `x-sn-time-created` is reset on every overwrite."""
    key = _store(api, {})
    first = parse_ts(api.get(key).header("x-sn-time-created") or "")
    api.put_ok(key, b"again")
    second = parse_ts(api.get(key).header("x-sn-time-created") or "")
    # Whole seconds today (§5.5) may not tick in between; the strict order on a current
    # server is test_current_reads::test_overwrite_in_a_later_second_resets_created.
    assert second >= first if api.target.current else second > first


# -- §5.7 filename and content-disposition -------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "sanitised"),
    [
        ("report.pdf", "report.pdf"),
        ("path/to/file.txt", "path-to-file.txt"),
        ("a\\b.txt", "a-b.txt"),
        ('has"quote.txt', 'has\\"quote.txt'),
        (".", "-"),
        ("..", "--"),
        ("...", "---"),
        (".hidden", ".hidden"),
        ("a..b", "a..b"),
        ("../x", "..-x"),
        ("with space; semi.txt", "with space; semi.txt"),
        ("%41.txt", "%41.txt"),
    ],
)
def test_content_disposition(api: Api, filename: str, sanitised: str) -> None:
    """§5.7: GET/HEAD add `attachment; filename="<sanitised>"` from the stored filename."""
    key = _store(api, {"x-sn-filename": filename})
    if api.target.current and "%" in filename:
        filename, sanitised = "A.txt", "A.txt"  # stored decoded today (§5.8)
    for resp in (api.get(key), api.head(key)):
        assert resp.header("content-disposition") == f'attachment; filename="{sanitised}"'
        assert resp.header("x-sn-filename") == (
            pct_echo(filename) if api.target.current else filename
        )


@V020
def test_no_content_disposition_without_filename(api: Api) -> None:
    """§5.7: no filename, no `content-disposition`."""
    key = _store(api, {"x-sn-origin": "x"})
    assert not api.get(key).has("content-disposition")
    assert not api.head(key).has("content-disposition")
