"""GET and PATCH /users/me (profile cached in lockcache's user_profile namespace)."""

from aiohttp import web
from kushim.graph.v1 import graph_pb2

from kushim_api import bodies, keys, serialize
from kushim_api.auth import user_id
from kushim_api.errors import ValidationError

routes = web.RouteTableDef()


@routes.get("/users/me")
async def get_me(request: web.Request) -> web.Response:
    uid = user_id(request)
    upstream = request.app[keys.UPSTREAM]

    async def load() -> dict:
        answer = await upstream.users.GetUser(graph_pb2.GetUserRequest(user_id=uid))
        return serialize.user(answer.user)

    caches = request.app[keys.CACHES]
    profile = await caches.read_through(caches.profile_key(uid), "user_profile", load)
    return web.json_response(profile)


@routes.patch("/users/me")
async def patch_me(request: web.Request) -> web.Response:
    body = await bodies.read(request, bodies.UserPatch)
    sent = body.model_fields_set
    if not sent:
        raise ValidationError("give displayName and/or settings")
    update = graph_pb2.UpdateUserRequest(user_id=user_id(request))
    if "displayName" in sent:
        update.display_name = body.displayName
    if "settings" in sent:
        update.settings_json = body.settings or "{}"
    # graph invalidates the cached profile in the update's transaction
    answer = await request.app[keys.UPSTREAM].users.UpdateUser(update)
    request.app[keys.CACHES].forget_profile(update.user_id)
    return web.json_response(serialize.user(answer.user))
