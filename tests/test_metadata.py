from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from urllib3 import HTTPHeaderDict

from objectstore_client.errors import InvalidArgument, InvalidArgumentType
from objectstore_client.metadata import (
    Manual,
    Metadata,
    TimeToIdle,
    TimeToLive,
    format_expiration,
    format_timedelta,
    itertools_batched,
    parse_expiration,
    parse_timedelta,
)

DAY = 86_400
MONTH = 2_630_016
YEAR = 31_557_600


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        pytest.param(timedelta(0), "0s", id="zero"),
        pytest.param(timedelta(seconds=30), "30s", id="seconds"),
        pytest.param(timedelta(seconds=90), "1m 30s", id="minutes"),
        pytest.param(timedelta(hours=1), "1h", id="hour"),
        pytest.param(timedelta(days=1), "1d", id="day"),
        pytest.param(timedelta(days=400, seconds=3723), "400d 1h 2m 3s", id="long"),
        pytest.param(timedelta(milliseconds=1), "1s", id="sub-second-rounds-up"),
        pytest.param(timedelta(seconds=59, microseconds=1), "1m", id="rounds-up-carry"),
    ],
)
def test_format_timedelta(delta, text):
    assert format_timedelta(delta) == text


def test_format_timedelta_rejects_negative():
    with pytest.raises(InvalidArgument, match="delta"):
        format_timedelta(timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # humantime output of the server (protocol §5.4.2)
        pytest.param("30s", 30, id="30s"),
        pytest.param("1m 30s", 90, id="1m-30s"),
        pytest.param("1day", DAY, id="1day"),
        pytest.param("2days", 2 * DAY, id="2days"),
        pytest.param("1day 1h", DAY + 3600, id="1day-1h"),
        pytest.param("1month 13h 26m 24s", 31 * DAY, id="31-days"),
        pytest.param("2months 29days 2h 52m 48s", 90 * DAY, id="90-days"),
        pytest.param("11months 30days 3h 50m 24s", 365 * DAY, id="365-days"),
        pytest.param("1year", YEAR, id="1year"),
        pytest.param("2years 1month", 2 * YEAR + MONTH, id="2years"),
        pytest.param("1s 500ms", 1.5, id="ms"),
        pytest.param("1s 500ms 250us", 1.50025, id="us"),
        pytest.param("1us 999ns", 0.000001, id="ns-truncated"),
        # objectstore-client 0.0.19's writer
        pytest.param("1 days", DAY, id="0.0.19-days"),
        pytest.param("3600 seconds", 3600, id="0.0.19-seconds"),
        pytest.param("1 days 3600 seconds", DAY + 3600, id="0.0.19-both"),
        # 0.2.10's writer and other humantime inputs
        pytest.param("400d 1h 2m 3s", 400 * DAY + 3723, id="0.2.10"),
        pytest.param("2h37min", 2 * 3600 + 37 * 60, id="back-to-back"),
        pytest.param("1.5h", 5400, id="fraction"),
        pytest.param("1w", 7 * DAY, id="week"),
        pytest.param("1M", MONTH, id="M-is-month"),
        pytest.param("1m", 60, id="m-is-minute"),
        pytest.param("0", 0, id="bare-zero"),
        pytest.param("0s", 0, id="0s"),
        pytest.param("  1h  ", 3600, id="whitespace"),
        pytest.param("5\u00b5s", 0.000005, id="micro-sign"),
    ],
)
def test_parse_timedelta(text, seconds):
    assert parse_timedelta(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("5", id="no-unit"),
        pytest.param("1 fortnight", id="unknown-unit"),
        pytest.param("1h garbage", id="trailing-word"),
        pytest.param("1x", id="unknown-short-unit"),
        pytest.param("-1s", id="negative"),
        pytest.param("1H", id="wrong-case"),
        pytest.param("99999999999years", id="overflow"),
    ],
)
def test_parse_timedelta_rejects_instead_of_misreading(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_timedelta(text)


@pytest.mark.parametrize("seconds", [0, 1, 59, 60, 3599, 3600, DAY - 1, DAY, 400 * DAY + 1])
def test_format_then_parse_round_trips(seconds):
    assert parse_timedelta(format_timedelta(timedelta(seconds=seconds))) == timedelta(
        seconds=seconds
    )


def test_format_expiration():
    assert format_expiration(TimeToLive(timedelta(days=1))) == "ttl:1d"
    assert format_expiration(TimeToIdle(timedelta(hours=1, minutes=30))) == "tti:1h 30m"
    assert format_expiration(Manual()) == "manual"
    with pytest.raises(InvalidArgumentType, match="expiration_policy"):
        format_expiration("ttl:1d")  # type: ignore[arg-type]


def test_parse_expiration():
    assert parse_expiration("ttl:1day") == TimeToLive(timedelta(days=1))
    assert parse_expiration("tti:1h") == TimeToIdle(timedelta(hours=1))
    assert parse_expiration("manual") is None
    assert parse_expiration("garbage") is None
    with pytest.raises(ValueError, match="unknown unit"):
        parse_expiration("ttl:1 fortnight")


@pytest.mark.parametrize("policy", [TimeToLive, TimeToIdle])
def test_policies_validate_delta(policy):
    with pytest.raises(InvalidArgumentType, match="expiration_policy"):
        policy(3600)
    with pytest.raises(InvalidArgument, match="negative"):
        policy(timedelta(seconds=-1))


def test_policies_stay_mutable_dataclasses_as_in_0_0_19():
    policy = TimeToLive(timedelta(days=1))
    policy.delta = timedelta(days=2)
    assert policy == TimeToLive(timedelta(days=2))


def test_metadata_keeps_0_0_19_positional_fields_and_appends_new_ones():
    metadata = Metadata("text/plain", None, None, None, None, "origin", {"a": "b"})
    assert (metadata.origin, metadata.custom) == ("origin", {"a": "b"})
    assert (metadata.filename, metadata.size) == (None, None)
    metadata.compression = "zstd"  # 0.0.19 code mutates it


def test_from_headers_reads_every_field():
    metadata = Metadata.from_headers(
        {
            "content-type": "text/plain",
            "content-encoding": "zstd",
            "x-sn-expiration": "tti:1day",
            "x-sn-time-created": "2023-11-14T22:13:20.000000Z",
            "x-sn-time-expires": "2023-11-15T22:13:20.000000Z",
            "x-sn-origin": "203.0.113.42",
            "x-sn-filename": "r%C3%A9sum%C3%A9.pdf",
            "x-sn-size": "123",
            "x-snme-build": "abc",
            "content-disposition": 'attachment; filename="x"',
        }
    )
    assert metadata == Metadata(
        content_type="text/plain",
        compression="zstd",
        expiration_policy=TimeToIdle(timedelta(days=1)),
        time_created=datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
        time_expires=datetime(2023, 11, 15, 22, 13, 20, tzinfo=UTC),
        origin="203.0.113.42",
        custom={"build": "abc"},
        filename="résumé.pdf",
        size=123,
    )


def test_from_headers_defaults():
    assert Metadata.from_headers({}) == Metadata(
        "application/octet-stream", None, None, None, None, None, {}
    )


def test_from_headers_is_case_insensitive():
    metadata = Metadata.from_headers(
        {"Content-Encoding": "zstd", "X-Sn-Origin": "o", "X-SNME-Build": "b", "X-Sn-Size": "1"}
    )
    assert (metadata.compression, metadata.origin, metadata.custom, metadata.size) == (
        "zstd",
        "o",
        {"build": "b"},
        1,
    )


def test_from_headers_of_urllib3_headers_is_case_insensitive():
    headers = HTTPHeaderDict(
        {"Content-Type": "text/plain", "X-Sn-Origin": "o", "X-SNME-Build": "b", "Server": "s"}
    )
    metadata = Metadata.from_headers(headers)
    assert (metadata.content_type, metadata.origin, metadata.custom) == (
        "text/plain",
        "o",
        {"build": "b"},
    )


def test_from_headers_of_a_repeated_urllib3_header_keeps_the_last_value():
    headers = HTTPHeaderDict()
    headers.add("x-snme-build", "first")
    headers.add("X-Snme-Build", "last")
    assert Metadata.from_headers(headers).custom == {"build": "last"}


def test_from_headers_decodes_tolerantly():
    metadata = Metadata.from_headers(
        {"x-snme-a": "caf%C3%A9", "x-snme-b": "50%ff", "x-snme-c": "100%", "x-snme-d": "%zz"}
    )
    assert metadata.custom == {"a": "café", "b": "50%ff", "c": "100%", "d": "%zz"}


def test_from_headers_skips_unparsable_values_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="objectstore_client.metadata"):
        metadata = Metadata.from_headers(
            {"x-sn-expiration": "ttl:1 fortnight", "x-sn-time-created": "yesterday"}
        )
    assert metadata.expiration_policy is None
    assert metadata.time_created is None
    assert "x-sn-expiration" in caplog.text


def test_itertools_batched():
    assert list(itertools_batched("abcde", 2)) == [("a", "b"), ("c", "d"), ("e",)]
    with pytest.raises(ValueError, match="shorter"):
        list(itertools_batched("abc", 2, strict=True))
    with pytest.raises(ValueError, match="at least one"):
        list(itertools_batched("abc", 0))
