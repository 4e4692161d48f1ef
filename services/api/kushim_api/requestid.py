"""X-Request-Id: accepted from the caller when sane, generated otherwise, echoed back,
and kept in the log context (and so in gRPC metadata) for the whole request."""

import re
import uuid

from aiohttp import web
from kushim_common.logs import request_id_var

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@web.middleware
async def request_id_middleware(request: web.Request, handler) -> web.StreamResponse:
    given = request.headers.get(HEADER, "")
    request_id = given if _SANE.match(given) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            exc.headers[HEADER] = request_id
            raise
        response.headers[HEADER] = request_id
        return response
    finally:
        request_id_var.reset(token)
