"""`send_put`: executes a planned single-request upload, measured like `Session.put`."""

from __future__ import annotations

from objectstore_client._context import RequestContext
from objectstore_client._measure import record_upload
from objectstore_client._plans.objects import PutPlan, read_put
from objectstore_client._upload import UploadBody

__all__ = ["send_put"]


def send_put(context: RequestContext, plan: PutPlan) -> tuple[str, UploadBody | None]:
    """Sends a `PutPlan` as one PUT or POST; returns the stored key and the body sent.

    Raises:
        EndpointNotFound: 404: no Objectstore route at the path (base URL or usecase);
            see `RequestContext.send`.
        RequestError: The server rejected the upload.
        TransportError: The upload failed on the network (see `Session.put` for retries).
    """
    request = plan.request
    with context.measure("put", request.key) as (span, emitter):
        path = context.target(request)
        response, body = context.send(request, path)
        key = read_put(response, request, path)
        record_upload(span, emitter, body, plan.compression, plan.precompressed, key)
    return key, body
