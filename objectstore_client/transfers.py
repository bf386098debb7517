"""`TransferConfig`: how `upload_file` and `download_file` split large transfers.

Defaults were chosen by measurement against the local server on 2 cores (bench/README.md,
"Transfers and batches"): parts of 5 MiB (the smallest part a server must accept), 2 at a
time, for files and objects from 256 MiB. Uploads are CPU-bound there (compressing on the
client, receiving on the server): 5, 6 and 8 MiB parts with 2 workers and 8 MiB with 3
took the same time within the noise of the machine (medians 0.82-0.91 s per GiB), and
5 MiB x 2 is the one whose peak memory stays at or below objectstore-client 0.2.10's
(44 MiB for an upload compressed on 2 threads against 0.2.10's 46-47). Raise
`max_concurrency` where one connection is slower than the server (long round trips) or
where more cores can compress: each part in flight holds one buffer of `part_size` stored
bytes, and each compressing thread a zstd frame of 512 KiB of file and its context, so
memory stays near `part_size * max_concurrency` whatever the size. Below 256 MiB one request beats a
multipart upload's fixed cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from objectstore_client import _validation
from objectstore_client.errors import InvalidArgument, InvalidArgumentType

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_PART_SIZE",
    "DEFAULT_THRESHOLD",
    "MIN_PART_SIZE",
    "TransferConfig",
    "TransferProtocol",
]

MIB = 1024 * 1024

MIN_PART_SIZE = 5 * MIB
"""The smallest part a multipart upload may send but for the last: GCS's minimum for
non-final parts (protocol §11.2), which every server must be assumed to have."""

DEFAULT_THRESHOLD = 256 * MIB
DEFAULT_PART_SIZE = MIN_PART_SIZE
DEFAULT_MAX_CONCURRENCY = 2

TransferProtocol = Literal["auto", "multipart", "resumable"]
"""How a large upload is split: `"multipart"` (parallel parts, protocol §11),
`"resumable"` (sequential chunks of one session, protocol §23), or `"auto"` (multipart)."""

_PROTOCOLS: tuple[TransferProtocol, ...] = ("auto", "multipart", "resumable")


@dataclass(frozen=True, slots=True)
class TransferConfig:
    """How large uploads and downloads are split into parts; validated on construction.

    Raises:
        InvalidArgument: A size or count below its minimum (`part_size` below
            `MIN_PART_SIZE`, zero or negative values), or an unknown protocol.
        InvalidArgumentType: A value of the wrong type.
    """

    threshold: int = DEFAULT_THRESHOLD
    """Files and objects of at least this many bytes are transferred in parts."""

    part_size: int = DEFAULT_PART_SIZE
    """Stored bytes per part, at least `MIN_PART_SIZE`: when an upload compresses, each
    part but the last holds as many file bytes as make this many compressed bytes (a server
    may refuse smaller parts, protocol §11.2); otherwise this many file bytes."""

    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    """Parts in flight at once, each on its own worker thread and connection; an upload
    that compresses also compresses on this many threads of its own (at most one per CPU
    the process may use)."""

    protocol: TransferProtocol = "auto"
    """How uploads above the threshold are sent."""

    max_resumes: int = 5
    """How often a download resumes after its connection broke without progress."""

    def __post_init__(self) -> None:
        _validation.check_size(self.threshold, "threshold", 0)
        _validation.check_size(self.part_size, "part_size", MIN_PART_SIZE)
        _validation.check_size(self.max_concurrency, "max_concurrency", 1)
        _validation.check_size(self.max_resumes, "max_resumes", 0)
        if self.protocol not in _PROTOCOLS:
            raise InvalidArgument("protocol", f"must be one of {_PROTOCOLS}, got {self.protocol!r}")


def config_or_default(config: object) -> TransferConfig:
    """Checks a `config=` argument; `None` means the defaults.

    Raises:
        InvalidArgumentType: `config` is not a `TransferConfig`.
    """
    if config is None:
        return TransferConfig()
    if not isinstance(config, TransferConfig):
        raise InvalidArgumentType(
            "config", f"must be a TransferConfig, got {type(config).__name__}"
        )
    return config
