"""Checks on caller input, run before any request is sent: the one home of validation.

Each check raises `InvalidArgument` (a `ValueError`) or `InvalidArgumentType` (a
`TypeError`) naming the argument and the rule it breaks. `arguments` checks what
operations take (keys, contents, metadata, expiry targets, URL validity), `settings` what
a `Client` is configured with. Value types that validate themselves on construction
(`Scope`, `TokenGenerator`, `TimeToLive`/`TimeToIdle`) keep their checks with them, since
this package depends on them.
"""

from __future__ import annotations

from objectstore_client._validation.arguments import (
    COMPRESSIONS,
    Body,
    ExpiryTarget,
    check_accept_encoding,
    check_compression,
    check_content_type,
    check_contents,
    check_custom_metadata,
    check_expiration_policy,
    check_expiry_target,
    check_header_text,
    check_key,
    check_optional_key,
    check_precompressed,
    check_presign_method,
    check_request_head,
    check_text,
    check_url_validity,
    check_usecase_name,
)
from objectstore_client._validation.settings import (
    check_auth_header,
    check_base_url,
    check_count,
    check_deadline,
    check_injected_pool,
    check_metrics_backend,
    check_missing,
    check_retries,
    check_timeout_ms,
    check_token,
)
from objectstore_client._validation.transfers import (
    check_range,
    check_ranges,
    check_size,
    check_target_path,
)
from objectstore_client._validation.uploads import (
    MAX_PART_NUMBER,
    check_content_length,
    check_content_md5,
    check_part_number,
    check_resumable_threshold,
    check_upload_id,
)

__all__ = [
    "COMPRESSIONS",
    "MAX_PART_NUMBER",
    "Body",
    "ExpiryTarget",
    "check_accept_encoding",
    "check_auth_header",
    "check_base_url",
    "check_compression",
    "check_content_length",
    "check_content_md5",
    "check_content_type",
    "check_contents",
    "check_count",
    "check_custom_metadata",
    "check_deadline",
    "check_expiration_policy",
    "check_expiry_target",
    "check_header_text",
    "check_injected_pool",
    "check_key",
    "check_metrics_backend",
    "check_missing",
    "check_optional_key",
    "check_part_number",
    "check_precompressed",
    "check_presign_method",
    "check_range",
    "check_ranges",
    "check_request_head",
    "check_resumable_threshold",
    "check_retries",
    "check_size",
    "check_target_path",
    "check_text",
    "check_timeout_ms",
    "check_token",
    "check_upload_id",
    "check_url_validity",
    "check_usecase_name",
]
