"""`Usecase`: a server-side namespace for one kind of data, with upload defaults.

Also importable as `objectstore_client.client.Usecase`, its module in objectstore-client 0.0.19.
"""

from __future__ import annotations

from typing import Literal

from objectstore_client import _validation
from objectstore_client.metadata import Compression, ExpirationPolicy, Manual

__all__ = ["DEFAULT_RESUMABLE_THRESHOLD", "Usecase"]

DEFAULT_RESUMABLE_THRESHOLD = 256 * 1024 * 1024
"""Uploads of this many bytes or more go resumable by default (as in 0.2.x)."""


class Usecase:
    """A server-side namespace for a kind of data, with upload defaults.

    Args:
        name: The usecase name: one non-empty URL path segment (no `/`, not `.` or `..`,
            no control characters). Other characters are percent-encoded in requests.
        compression: Default compression of uploads: `"zstd"` or `"none"`.
        expiration_policy: Default expiration of uploads: `TimeToLive`, `TimeToIdle`,
            `Manual()` or `None` (never expire).
        resumable_threshold_bytes: Uploads of known size from this many bytes on use the
            resumable protocol (see `Session.put`); `"none"`: never. Default 256 MiB.

    Raises:
        InvalidArgument: `name`, `compression` or `resumable_threshold_bytes` breaks a rule.
        InvalidArgumentType: An argument has the wrong type.
    """

    # 0.0.19 stored the defaults under these names, and code written for it reads them.
    _compression: Compression
    _expiration_policy: ExpirationPolicy | Manual | None

    def __init__(
        self,
        name: str,
        compression: Compression = "zstd",
        expiration_policy: ExpirationPolicy | Manual | None = None,
        resumable_threshold_bytes: int | Literal["none"] = DEFAULT_RESUMABLE_THRESHOLD,
    ) -> None:
        self.name = name
        self._resumable_threshold_bytes = _validation.check_resumable_threshold(
            resumable_threshold_bytes
        )
        self._compression = _validation.check_compression(compression)
        self._expiration_policy = _validation.check_expiration_policy(expiration_policy)

    @property
    def name(self) -> str:
        """The usecase name; assignable (as in 0.0.19) and validated on assignment."""
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        self._name = _validation.check_usecase_name(name)

    @property
    def compression(self) -> Compression:
        """How uploads are compressed unless `put` says otherwise."""
        return self._compression

    @property
    def expiration_policy(self) -> ExpirationPolicy | Manual | None:
        """How uploads expire unless `put` says otherwise; `None`: never."""
        return self._expiration_policy

    @property
    def resumable_threshold_bytes(self) -> int | Literal["none"]:
        """Uploads of at least this many bytes go resumable; `"none"`: never."""
        return self._resumable_threshold_bytes

    def __repr__(self) -> str:
        return (
            f"Usecase({self._name!r}, compression={self._compression!r}, "
            f"expiration_policy={self._expiration_policy!r})"
        )
