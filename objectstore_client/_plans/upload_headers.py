"""The metadata headers of an upload that stores a new object (protocol §5.1).

Shared by the plans that fix an object's metadata: put (protocol §6.1, §6.2), multipart
initiate (protocol §11.1) and resumable session creation (protocol §23.2).
"""

from __future__ import annotations

from objectstore_client import _protocol, _validation
from objectstore_client.metadata import Compression
from objectstore_client.usecase import Usecase

__all__ = ["plan_upload_headers"]


def plan_upload_headers(
    usecase: Usecase,
    *,
    compression: Compression,
    content_type: object,
    metadata: object,
    expiration_policy: object,
    origin: object,
    filename: object,
) -> dict[str, str]:
    """Validates an upload's metadata arguments and returns its headers.

    `compression` (already checked) is the encoding recorded for the stored bytes. A
    `None` expiration policy takes the usecase's default, as `Session.put` does.

    Raises:
        InvalidArgument: An argument breaks a rule.
        InvalidArgumentType: An argument has the wrong type.
    """
    return _protocol.put_headers(
        compression=compression,
        content_type=_validation.check_content_type(content_type or None),
        expiration_policy=_validation.check_expiration_policy(
            expiration_policy or usecase.expiration_policy
        ),
        origin=_validation.check_text(origin or None, "origin"),
        filename=_validation.check_text(filename or None, "filename"),
        metadata=_validation.check_custom_metadata(metadata),
    )
