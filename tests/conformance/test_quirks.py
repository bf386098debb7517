"""§19 surprising behaviours not covered by the section modules, and where the others are.

Item → test(s) (items 1, 3, 5-8, 11 and the §18.2 fallbacks are 0.2.0 behaviour; today's
server changed them, see the `test_current_*` modules):

1. HEAD 204 — test_objects::test_head_is_204_with_zero_length
2. 201/200/200/201 — test_objects::test_post_creates_with_uuid4_key,
   test_put_new_and_overwrite_both_200; test_multipart::test_initiate_post_generates_key;
   test_batch::test_insert_overwrite_still_201
3. chunked GET, no size — test_objects::test_get_streams_stored_bytes_chunked,
   test_metadata::test_no_size_or_length_on_reads
4. zstd echoed, ranges on compressed bytes — test_compression, test_ranges::
   test_range_addresses_stored_compressed_bytes
5. content-encoding other than zstd → 400 — test_metadata::
   test_content_encoding_other_than_zstd_rejected
6. [FS] DELETE missing → 500 — test_objects::test_delete_missing_is_500,
   test_batch::test_delete_missing_is_500_part
7. [FS] expired served / [PROD] 404 — test_expiration
8. humantime echo — test_metadata::test_expiration_accepted_and_echoed_canonically
9. client timestamps ignored, TTI shows pre-access value — test_metadata::
   test_ignored_request_headers, test_expiration::test_tti_bump_debounced_and_extends_life
10. lower-case header names — test_routing::test_response_header_names_are_lower_case,
    test_metadata::test_custom_metadata_names_lower_cased
11. visible ASCII only, verbatim — test_metadata::test_non_visible_ascii_value_rejected,
    test_origin_filename_custom_verbatim
12. empty path parameters — test_routing::test_empty_scopes_segment_is_400,
    test_empty_usecase_is_accepted
13. `%2F` = `/`; [FS] aliasing — test_routing::test_encoded_slash_in_key_is_a_slash and
    the tests below
14. batch route/content type/quoted boundary/no trailing CRLF/order/error parts/key
    encoding — test_batch
15. empty key header, malformed bodies — test_batch::test_present_but_empty_key_is_the_empty_key,
    test_framing_error_is_400_part
16. snake_case multipart query — test_multipart::test_part_query_errors_are_400_text[camel-case]
    and test_camel_case_upload_id_is_not_read below
17. complete always 200 — test_multipart (outcome helper, error documents, order)
18. [FS] etags, trusted length, unknown upload 500 / abort 204 — test_multipart
19. list/abort need write — test_multipart::test_all_multipart_operations_need_write
20. Bearer mandatory, malformed x-os-auth hides authorization — test_auth
21. 400/400/401 — test_auth::test_no_token_is_400, test_missing_kid_is_400,
    test_unknown_kid_is_401
22. string scopes, `*` wildcard, subsets — test_auth
23. max_permissions default, enforce modes — test_auth
24. `os_sig` switches to presign — test_presign::test_os_sig_switches_to_presign_despite_bearer
25. canonical form — test_presign
26. range quirks — test_ranges
27. killswitch / rate limit plain text — test_limits
28. metadata before permission, auth before path — test_routing
29. overwrite replaces metadata — test_objects::test_overwrite_replaces_all_metadata
30. `OS__LOG__LEVEL` — not observable over HTTP.
"""

from __future__ import annotations

import pytest

from ._api import Api, assert_text_error, enc, uniq


def test_camel_case_upload_id_is_not_read(api: Api) -> None:
    """§19.16: `uploadId` is not `upload_id`: listing with camelCase → 400 (missing field)."""
    init = api.request("PUT", api.path(uniq(), route="objects:multipart"))
    upload_id = init.json()["upload_id"]
    path = api.path(init.json()["key"], route="objects:multipart:parts")
    resp = api.request("GET", f"{path}?uploadId={enc(upload_id)}")
    assert_text_error(resp, 400, "Failed to deserialize query string: ")


def test_encoded_and_raw_slash_same_object_in_batch(api: Api) -> None:
    """§19.13/§10.1: a batch key `a%2Fb` and the path `a/b` address the same object."""
    from . import _formdata as fd

    kind = ("x-sn-batch-operation-kind", "get")
    api.put_ok("a/b", b"slash")
    parts = fd.run(api, [fd.Op([kind, ("x-sn-batch-operation-key", "a%2Fb")])])
    assert parts[0].body == b"slash"


# -- §2.5/§19.13 key handling per backend --------------------------------------------------


@pytest.mark.profile("production")
def test_prefix_keys_coexist(api: Api) -> None:
    """§2.5/§19.13: keys are opaque: `a` and `a/b` coexist (only [FS] cannot)."""
    base = uniq()
    api.put_ok(base, b"file")
    api.put_ok(base + "/child", b"child")
    assert api.get(base).body == b"file"
    assert api.get(base + "/child").body == b"child"


@pytest.mark.profile("production")
def test_dot_segments_not_normalised(api: Api) -> None:
    """§2.5: `x/../y` is its own key, not `y`."""
    base = uniq()
    api.put_ok(f"{base}/x/../y", b"dots")
    assert api.get(f"{base}/y").status == 404
    assert api.get(f"{base}/x/../y").body == b"dots"


@pytest.mark.profile("production")
def test_long_key_segment(api: Api) -> None:
    """§2.5: no key length validation by the server (a 300-byte segment is fine)."""
    key = uniq() + "/" + "s" * 300
    api.put_ok(key, b"long")
    assert api.get(key).body == b"long"


@pytest.mark.profile("filesystem")
def test_fs_dot_segments_alias(api: Api) -> None:
    """§2.5 [FS]/§19.13: the key is a file path: `x/../y` aliases `y`."""
    base = uniq()
    assert api.put("", raw_key=f"{base}/x/../y", body=b"dots").status == 200
    assert api.get(f"{base}/y").body == b"dots"


@pytest.mark.profile("filesystem")
def test_fs_double_slash_aliases(api: Api) -> None:
    """§2.5 [FS]/§19.13: `a//b` aliases `a/b`."""
    base = uniq()
    assert api.put("", raw_key=f"{base}//b", body=b"double").status == 200
    assert api.get(f"{base}/b").body == b"double"


@pytest.mark.profile("filesystem")
def test_fs_trailing_slash_key_cannot_be_written(api: Api) -> None:
    """§2.5 [FS]/§19.13: a key with a trailing slash cannot be written (500)."""
    assert api.put("", raw_key=f"{uniq()}/", body=b"x").status == 500


@pytest.mark.profile("filesystem")
def test_fs_prefix_key_conflicts(api: Api) -> None:
    """§2.5/§6.3 [FS]/§19.13: `a` and `a/b` cannot coexist (500 on write or read)."""
    a = uniq()
    api.put_ok(a, b"file")
    assert api.put(f"{a}/b", b"child").status == 500
    c = uniq()
    api.put_ok(f"{c}/d", b"child")
    assert api.put(c, b"file").status == 500
    assert api.get(c).status == 500


@pytest.mark.profile("filesystem")
def test_fs_component_longer_than_255_bytes(api: Api) -> None:
    """§2.5 [FS]: each `/`-separated component is limited to 255 bytes (longer → 500)."""
    assert api.put("s" * 255, b"ok").status == 200
    assert api.put("s" * 256, b"too long").status == 500


# -- §18.2 what newer clients send, against this server ------------------------------------


@pytest.mark.server_version("0.2.0")
def test_resumable_initiate_degrades_to_empty_object(api: Api) -> None:
    """§18.2: `?upload_type=resumable` is ignored: an empty object, `{"key"}` only."""
    resp = api.request(
        "POST", api.path() + "?upload_type=resumable", {"upload-length": "1000"}, b""
    )
    assert resp.status == 201, resp
    doc = resp.json()
    assert list(doc) == ["key"], doc
    got = api.get(doc["key"])
    assert got.status == 200, got
    assert got.body == b""


@pytest.mark.server_version("0.2.0")
def test_resumable_session_put_is_a_plain_put(api: Api) -> None:
    """§18.2: `PUT ...?session=` with `upload-offset` is an ordinary overwrite (200)."""
    key = uniq()
    api.put_ok(key, b"")
    resp = api.request("PUT", api.path(key) + "?session=tok", {"upload-offset": "0"}, b"whole body")
    assert resp.status == 200, resp
    assert resp.json() == {"key": key}
    assert not resp.has("upload-offset")
    assert api.get(key).body == b"whole body"


@pytest.mark.server_version("0.2.0")
def test_resumable_cancel_is_a_plain_delete(api: Api) -> None:
    """§18.2: `DELETE ...?session=` deletes the object (the query is ignored)."""
    key = uniq()
    api.put_ok(key, b"x")
    assert api.request("DELETE", api.path(key) + "?session=tok").status == 204
    assert api.get(key).status == 404
