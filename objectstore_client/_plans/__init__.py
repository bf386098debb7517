"""Operation plans: each operation's requests and results, decided without I/O.

For every operation a module here has a `plan_*` function, which validates the caller's
arguments and returns the request to send (a `RequestPlan`: method, endpoint, key, query,
headers, body), and a `read_*` function, which turns the response into the operation's
result or raises its typed error. Nothing here opens a connection: `RequestContext`
(`objectstore_client._context`) executes plans synchronously, and batch, multipart,
resumable and a future async transport reuse the same plans. See docs/architecture.md.
"""
