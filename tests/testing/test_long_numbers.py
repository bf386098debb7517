"""Numbers of any length in a request are answered as the largest ones that fail to parse.

Python refuses to convert a string of more than 4,300 digits to an `int` (a `ValueError`),
where the real server's parsers count digits into 64 bits and stop. Every number a request
carries must get, at 5,000 digits, the answer it gets at 21 (one past 64 bits) and, with
leading zeros, the answer of its value: never a 500 or a dropped connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import urllib3

from objectstore_client.testing import LocalServer

BASE = "/v1/objects/u/org=1/"
TOO_BIG = "1" * 21


@pytest.fixture(scope="module")
def pool() -> Iterator[urllib3.HTTPConnectionPool]:
    with LocalServer() as server:
        pool = urllib3.connection_from_url(server.url, retries=False)
        assert pool.request("PUT", BASE + "k", body=b"hello").status == 200
        yield pool
        pool.close()


def _answer(pool: urllib3.HTTPConnectionPool, method: str, path: str, **headers: str):
    response = pool.request(method, path, headers=headers, body=b"")
    return response.status, response.data


CASES = {
    "range end": lambda n: ("GET", BASE + "k", {"range": f"bytes=0-{n}"}),
    "expiration": lambda n: ("PUT", BASE + "e", {"x-sn-expiration": f"ttl:{n}s"}),
    "expiration fraction": lambda n: ("PUT", BASE + "e", {"x-sn-expiration": f"ttl:1.{n}s"}),
    "upload-length": lambda n: ("POST", BASE + "?upload_type=resumable", {"upload-length": n}),
    "content-length": lambda n: ("GET", "/health", {"content-length": "9" + n}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_5000_digit_number_is_answered_as_a_21_digit_one(pool, case: str) -> None:
    method, path, headers = CASES[case](TOO_BIG)
    expected = _answer(pool, method, path, **headers)
    assert expected[0] in (400, 413, 416), expected
    method, path, headers = CASES[case]("1" * 5000)
    assert _answer(pool, method, path, **headers) == expected


def test_leading_zeros_of_any_length_are_read_past(pool) -> None:
    zeros = "0" * 5000
    status, data = _answer(pool, "GET", BASE + "k", range=f"bytes=0-{zeros}1")
    assert (status, data) == (206, b"he")
    status, _ = _answer(pool, "PUT", BASE + "z", **{"x-sn-expiration": f"ttl:{zeros}5s"})
    assert status == 200
    response = pool.request("GET", "/health", headers={"content-length": zeros + "2"}, body=b"ok")
    assert response.status == 200
