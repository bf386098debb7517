"""`send_put`: executes a planned single-request upload (`Session.put`, batch uploads)."""

from __future__ import annotations

from objectstore_client._context import RequestContext
from objectstore_client._measure import record_upload
from objectstore_client._outcome import upload_outcome
from objectstore_client._plans.objects import PutPlan, read_put
from objectstore_client._upload import UploadBody

__all__ = ["send_put"]


def send_put(context: RequestContext, plan: PutPlan) -> tuple[str, UploadBody | None]:
    """Sends a `PutPlan` as one PUT or POST; returns the stored key and the body sent.

    Errors carry the key and `stored` (`_outcome`).

    Raises:
        EndpointNotFound: 404: no Objectstore route at the path (base URL or usecase);
            see `RequestContext.send`.
        RequestError: The server rejected the upload.
        IntegrityError: The answer names another key than the one sent (after replays).
        TransportError: The upload failed on the network (see `Session.put` for retries).
    """
    request = plan.request
    with context.measure("put", request.key) as (span, emitter), upload_outcome(request.key):
        path = context.target(request)
        keys: list[str] = []
        # An answer garbled on the way is read again from a replay, when one is allowed;
        # the key of the answer that passed is the result.
        _, body = context.send(
            request, path, validate=lambda answer: keys.append(read_put(answer, request, path))
        )
        key = keys[-1]
        record_upload(span, emitter, body, plan.compression, plan.precompressed, key)
    return key, body
