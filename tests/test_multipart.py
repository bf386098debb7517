"""Multipart uploads (protocol §11) against the local server, and their bad input."""

from __future__ import annotations

import array
import hashlib
import io
import json
import pickle

import pytest
import zstandard

from objectstore_client import Client, RequestError, Usecase
from objectstore_client.errors import InvalidArgument, InvalidArgumentType, ProtocolError
from objectstore_client.multipart import (
    CompletePart,
    MultipartCompleteError,
    MultipartUpload,
    PartInfo,
)

PARTS = [b"first part " * 1000, b"second part " * 1000, b"third"]


@pytest.fixture
def mp_session(objectstore_url, objectstore_usecase):
    with Client(objectstore_url) as client:
        yield client.session(Usecase(objectstore_usecase), org=1, project=2)


def upload(session, parts=PARTS, **initiate):
    handle = session.initiate_multipart_upload(**initiate)
    done = [
        handle.put_part(part, part_number=n, content_length=len(part))
        for n, part in enumerate(parts, start=1)
    ]
    return handle, handle.complete(done)


def frames(data: bytes) -> int:
    """How many zstd frames `data` holds: each decompressobj stops at its frame's end."""
    count = 0
    while data:
        decoder = zstandard.ZstdDecompressor().decompressobj()
        decoder.decompress(data)
        data = decoder.unused_data
        count += 1
    return count


def test_archive_upload_without_compression(mp_session):
    handle, key = upload(
        mp_session, key="archive.zip", compression="none", content_type="application/zip"
    )
    assert key == "archive.zip" == handle.key
    response = mp_session.get(key)
    assert response.payload.read() == b"".join(PARTS)
    assert response.metadata.content_type == "application/zip"
    assert response.metadata.compression is None
    raw = mp_session.get(key, decompress=False)
    assert raw.metadata.compression is None
    assert raw.payload.read() == b"".join(PARTS)


def test_default_compression_compresses_each_part_into_its_own_frame(mp_session):
    # The usecase compresses with zstd: each part becomes a frame, the object one stream.
    _, key = upload(mp_session, key="compressed")
    assert mp_session.get(key).payload.read() == b"".join(PARTS)
    stored = mp_session.get(key, decompress=False)
    assert stored.metadata.compression == "zstd"
    wire = stored.payload.read()
    assert len(wire) < len(b"".join(PARTS))
    assert frames(wire) == len(PARTS)
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(wire), read_across_frames=True)
    assert reader.read() == b"".join(PARTS)


def test_server_chosen_key(mp_session):
    handle, key = upload(mp_session)
    assert key == handle.key
    assert mp_session.get(key).payload.read() == b"".join(PARTS)


def test_precompressed_parts_are_sent_as_they_are(mp_session):
    compressed = [zstandard.ZstdCompressor().compress(part) for part in PARTS]
    _, key = upload(mp_session, compressed, key="pre", precompressed="zstd")
    assert mp_session.get(key).payload.read() == b"".join(PARTS)
    assert mp_session.get(key, decompress=False).payload.read() == b"".join(compressed)


def test_a_raw_part_is_never_recorded_as_zstd(mp_session):
    handle = mp_session.initiate_multipart_upload(key="raw", precompressed="zstd")
    with pytest.raises(InvalidArgument, match="not whole zstd frames") as info:
        handle.put_part(b"plain text", part_number=1, content_length=10)
    assert info.value.argument == "contents"
    assert handle.list_parts() == []  # nothing was sent
    handle.abort()


def test_parts_the_caller_compressed_are_not_compressed_twice(mp_session):
    # 0.2.x's way: compression="zstd" and parts compressed by the caller.
    compressed = [zstandard.ZstdCompressor().compress(part) for part in PARTS]
    _, key = upload(mp_session, compressed, key="twice", compression="zstd")
    assert mp_session.get(key, decompress=False).payload.read() == b"".join(compressed)
    assert mp_session.get(key).payload.read() == b"".join(PARTS)


def test_a_cut_frame_is_data_and_gets_compressed(mp_session):
    # Starts like zstd but is not whole frames: compressed like any other part.
    cut = zstandard.ZstdCompressor().compress(b"y" * 5000)[:-3]
    _, key = upload(mp_session, [cut, b"tail"], key="cut")
    assert mp_session.get(key).payload.read() == cut + b"tail"


def test_parts_from_streams(mp_session):
    handle = mp_session.initiate_multipart_upload(key="streams", compression="none")
    stream = io.BytesIO(b"".join(PARTS))
    done = [
        handle.put_part(stream, part_number=n, content_length=len(part))
        for n, part in enumerate(PARTS, start=1)
    ]
    assert handle.complete(done) == "streams"
    assert mp_session.get("streams").payload.read() == b"".join(PARTS)


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_parts_from_memoryviews(mp_session, compression):
    # Views are sent as the bytes they show: a slice, a view of another format, and a
    # strided view (which cannot be sent without a copy).
    backing = bytearray(b"0123456789" * 1000)
    parts = [
        memoryview(backing)[10:5000],
        memoryview(array.array("I", range(1000))),
        memoryview(bytes(range(256)) * 10)[::2],
    ]
    expected = b"".join(view.tobytes() for view in parts)
    handle = mp_session.initiate_multipart_upload(compression=compression)
    done = [
        handle.put_part(view, part_number=n, content_length=view.nbytes)
        for n, view in enumerate(parts, start=1)
    ]
    key = handle.complete(done)
    with mp_session.get(key) as got:
        assert got.payload.read() == expected
    assert mp_session.head(key).compression == (None if compression == "none" else "zstd")


def test_a_part_view_with_a_wrong_length_is_refused_before_any_request(dead_url):
    with Client(dead_url) as client:
        session = client.session(Usecase("test"), org=1)
        handle = session.resume_multipart_upload("k", "id", compression="none")
        with pytest.raises(InvalidArgument, match="content_length"):
            handle.put_part(memoryview(b"abc"), part_number=1, content_length=4)


def test_short_stream(mp_session):
    handle = mp_session.resume_multipart_upload("k", "id", compression="none")
    with pytest.raises(InvalidArgument, match="ended after 3 bytes") as info:
        handle.put_part(io.BytesIO(b"abc"), part_number=1, content_length=4)
    assert info.value.argument == "content_length"


def test_list_parts_and_complete_with_them(mp_session):
    handle = mp_session.initiate_multipart_upload(key="listed", compression="none")
    for n, part in enumerate(PARTS, start=1):
        handle.put_part(part, part_number=n, content_length=len(part))
    listed = handle.list_parts()
    assert [p.part_number for p in listed] == [1, 2, 3]
    assert [p.size for p in listed] == [len(p) for p in PARTS]
    assert all(isinstance(p, PartInfo) and p.last_modified.tzinfo for p in listed)
    assert handle.complete(list(reversed(listed))) == "listed"  # sorted by number
    assert mp_session.get("listed").payload.read() == b"".join(PARTS)


def test_content_md5(mp_session):
    handle = mp_session.initiate_multipart_upload(key="md5")
    part = PARTS[0]
    digest = hashlib.md5(part).digest()
    done = handle.put_part(part, part_number=1, content_length=len(part), content_md5=digest)
    assert handle.complete([done]) == "md5"
    handle_2 = mp_session.initiate_multipart_upload(key="md5-2")
    with pytest.raises(InvalidArgument, match="does not match"):
        handle_2.put_part(part, part_number=1, content_length=len(part), content_md5=b"0" * 16)
    handle_2.abort()


def test_completing_with_a_wrong_etag_is_a_complete_error(mp_session):
    handle = mp_session.initiate_multipart_upload(key="etag", compression="none")
    handle.put_part(b"abc", part_number=1, content_length=3)
    with pytest.raises(MultipartCompleteError) as info:
        handle.complete([CompletePart(1, '"wrong"')])
    assert info.value.code == "InvalidPart"
    assert info.value.status == 200
    assert isinstance(info.value, RequestError)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.code, str(copy), copy.response) == (
        info.value.code,
        str(info.value),
        info.value.response,
    )
    # The upload stays open: completing it right works.
    assert handle.complete(handle.list_parts()) == "etag"


def test_abort_then_complete_is_refused_before_any_request(mp_session):
    handle, _ = upload(mp_session, key="aborted-after")  # completed
    with pytest.raises(InvalidArgument, match="was completed here"):
        handle.complete([CompletePart(1, "e")])
    handle = mp_session.initiate_multipart_upload(key="aborted")
    handle.put_part(b"abc", part_number=1, content_length=3)
    handle.abort()
    handle.abort()  # twice is fine
    with pytest.raises(InvalidArgument, match="was aborted here") as info:
        handle.complete([CompletePart(1, "e")])
    assert info.value.argument == "upload_id"
    with pytest.raises(InvalidArgument, match="was aborted here"):
        handle.put_part(b"abc", part_number=2, content_length=3)


@pytest.mark.parametrize(
    ("part_number", "error"),
    [
        (0, InvalidArgument),
        (-1, InvalidArgument),
        (2**32, InvalidArgument),
        (True, InvalidArgumentType),
        ("1", InvalidArgumentType),
        (1.0, InvalidArgumentType),
    ],
)
def test_bad_part_numbers_fail_before_any_request(dead_url, part_number, error):
    handle = (
        Client(dead_url)
        .session(Usecase("u"))
        .resume_multipart_upload("k", "id", compression="none")
    )
    with pytest.raises(error) as info:
        handle.put_part(b"x", part_number=part_number, content_length=1)
    assert info.value.argument == "part_number"
    with pytest.raises(error):
        handle.complete([CompletePart(part_number, "e")])


def test_highest_part_number_is_accepted(mp_session):
    handle = mp_session.initiate_multipart_upload(key="high", compression="none")
    done = handle.put_part(b"x", part_number=4294967295, content_length=1)
    assert done.part_number == 4294967295
    handle.abort()


@pytest.mark.parametrize(
    ("parts", "error", "match"),
    [
        ([], InvalidArgument, "must not be empty"),
        ((), InvalidArgument, "must not be empty"),
        ([CompletePart(1, "a"), CompletePart(1, "b")], InvalidArgument, "listed twice"),
        ([{"part_number": 1, "etag": "a"}], InvalidArgumentType, "CompletePart or PartInfo"),
        (None, InvalidArgumentType, "sequence"),
    ],
)
def test_bad_part_lists_fail_before_any_request(dead_url, parts, error, match):
    handle = Client(dead_url).session(Usecase("u")).resume_multipart_upload("k", "id")
    with pytest.raises(error, match=match) as info:
        handle.complete(parts)
    assert info.value.argument == "parts"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"content_length": 2}, "content_length"),
        ({"content_length": -1}, "content_length"),
        ({"content_length": 1, "content_md5": b"short"}, "content_md5"),
    ],
)
def test_bad_part_arguments(dead_url, kwargs, argument):
    handle = (
        Client(dead_url)
        .session(Usecase("u"))
        .resume_multipart_upload("k", "id", compression="none")
    )
    with pytest.raises(InvalidArgument) as info:
        handle.put_part(b"x", part_number=1, **kwargs)
    assert info.value.argument == argument


def test_bad_initiate_arguments(dead_url):
    session = Client(dead_url).session(Usecase("u"))
    with pytest.raises(InvalidArgument) as info:
        session.initiate_multipart_upload(compression="gzip")  # type: ignore[arg-type]
    assert info.value.argument == "compression"
    with pytest.raises(InvalidArgument) as info:
        session.initiate_multipart_upload(compression="zstd", precompressed="zstd")
    assert info.value.argument == "precompressed"
    with pytest.raises(InvalidArgument) as info:
        session.initiate_multipart_upload(key="a/../b")
    assert info.value.argument == "key"


def test_resumed_handle(mp_session):
    handle = mp_session.initiate_multipart_upload(key="resumed", compression="none")
    handle.put_part(b"one", part_number=1, content_length=3)
    # In 0.2.x's form the handle does not know the compression: parts are refused...
    bare = MultipartUpload(mp_session, "resumed", handle.upload_id)
    with pytest.raises(InvalidArgument, match="resume_multipart_upload") as info:
        bare.put_part(b"two", part_number=2, content_length=3)
    assert info.value.argument == "compression"
    # ...but listing, completing and aborting work.
    assert [p.part_number for p in bare.list_parts()] == [1]
    resumed = mp_session.resume_multipart_upload("resumed", handle.upload_id, compression="none")
    resumed.put_part(b"two", part_number=2, content_length=3)
    assert resumed.complete(resumed.list_parts()) == "resumed"
    assert mp_session.get("resumed").payload.read() == b"onetwo"


def test_list_parts_follows_every_page(scripted):
    pages = [
        {
            "parts": [
                {"part_number": 1, "etag": "a", "last_modified": "2026-01-01T00:00:00Z", "size": 1}
            ],
            "is_truncated": True,
            "next_part_number_marker": 1,
        },
        {
            "parts": [
                {
                    "part_number": 2,
                    "etag": "b",
                    "last_modified": "2026-01-01T00:00:00.123456789Z",
                    "size": 2,
                }
            ],
            "is_truncated": False,
        },
    ]
    server = scripted.start(
        lambda request, index: scripted.json_reply(200, json.dumps(pages[index]))
    )
    handle = Client(server.url).session(Usecase("u")).resume_multipart_upload("k", "id")
    parts = handle.list_parts()
    assert [(p.part_number, p.etag, p.size) for p in parts] == [(1, "a", 1), (2, "b", 2)]
    assert server.requests[0].path == "/v1/objects:multipart:parts/u/_/k?upload_id=id"
    assert server.requests[1].path.endswith("?upload_id=id&part_number_marker=1")


def test_truncated_listing_without_marker(scripted):
    server = scripted.start(
        lambda request, index: scripted.json_reply(200, '{"parts": [], "is_truncated": true}')
    )
    handle = Client(server.url).session(Usecase("u")).resume_multipart_upload("k", "id")
    with pytest.raises(ProtocolError, match="next_part_number_marker"):
        handle.list_parts()


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        (b'   \n  {"key": "k"}', "k"),
        (b' {"error": {"code": "InvalidPart", "message": "part 1 missing"}}', "InvalidPart"),
        (b"   ", ProtocolError),
        (b'{"neither": 1}', ProtocolError),
    ],
)
def test_complete_reads_the_document_after_the_keepalive_spaces(scripted, body, outcome):
    server = scripted.start(lambda request, index: scripted.Reply(200, {}, body))
    handle = Client(server.url).session(Usecase("u")).resume_multipart_upload("k", "id")
    if outcome == "k":
        assert handle.complete([CompletePart(2, "b"), CompletePart(1, "a")]) == "k"
        sent = json.loads(server.requests[0].body)
        assert sent == {"parts": [{"part_number": 1, "etag": "a"}, {"part_number": 2, "etag": "b"}]}
        assert server.requests[0].headers["content-type"] == "application/json"
    elif outcome == "InvalidPart":
        with pytest.raises(MultipartCompleteError) as info:
            handle.complete([CompletePart(1, "a")])
        assert info.value.code == "InvalidPart"
        assert info.value.response == "part 1 missing"
    else:
        with pytest.raises(outcome):
            handle.complete([CompletePart(1, "a")])


def test_initiate_refuses_metadata_over_the_request_head_limits_before_any_request(dead_url):
    # As put does (protocol §14): the upload's headers become the final object's metadata.
    session = Client(dead_url).session(Usecase("u"), org=1)
    with pytest.raises(InvalidArgument, match="metadata"):
        session.initiate_multipart_upload(key="k", metadata={f"m{i}": "v" for i in range(90)})
    with pytest.raises(InvalidArgument, match="metadata"):
        session.initiate_multipart_upload(key="k", metadata={"big": "x" * 70_000})
