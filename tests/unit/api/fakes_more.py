"""The rest of the fakes: groups, users, data sources, admin, lockcache, and the server."""

import uuid

import grpc
from kushim.graph.v1 import graph_pb2, graph_pb2_grpc

from tests.unit.api.fakes import _Base, _now


class Groups(_Base, graph_pb2_grpc.GroupServiceServicer):
    async def _own(self, request, context):
        owner, group, members = self.s.groups.get(request.group_id, (None, None, None))
        if owner != request.user_id:
            await self._missing(context, "group not found")
        return group, members

    def _answer(self, group, members):
        group.member_count = len(members)
        return graph_pb2.GroupResponse(group=group,
                                       members=[self.s.records[m][1] for m in members])

    async def _records(self, user_id, ids, context):
        for rid in ids:
            if self.s.records.get(rid, ("",))[0] != user_id:
                await self._missing(context, "record not found")

    async def ListGroups(self, request, context):
        await self._enter("ListGroups", request, context)
        mine = [g for o, g, _ in self.s.groups.values() if o == request.user_id]
        return graph_pb2.ListGroupsResponse(
            groups=mine[request.offset:request.offset + request.limit], total=len(mine))

    async def CreateGroup(self, request, context):
        await self._enter("CreateGroup", request, context)
        await self._records(request.user_id, request.record_ids, context)
        group = graph_pb2.ContextGroup(id=str(uuid.uuid4()), name=request.name, coherence=1.0,
                                       topics=["fake"], created_at=_now(), updated_at=_now())
        members = list(request.record_ids)
        self.s.groups[group.id] = (request.user_id, group, members)
        return self._answer(group, members)

    async def GetGroup(self, request, context):
        await self._enter("GetGroup", request, context)
        return self._answer(*await self._own(request, context))

    async def GetGroupGraph(self, request, context):
        await self._enter("GetGroupGraph", request, context)
        _, members = await self._own(request, context)
        links = [x for o, x in self.s.links.values() if o == request.user_id and
                 x.source_record_id in members and x.target_record_id in members]
        return graph_pb2.GraphResponse(nodes=[self.s.records[m][1] for m in members],
                                       links=links)

    async def RenameGroup(self, request, context):
        await self._enter("RenameGroup", request, context)
        group, members = await self._own(request, context)
        group.name = request.name
        return self._answer(group, members)

    async def DeleteGroup(self, request, context):
        await self._enter("DeleteGroup", request, context)
        await self._own(request, context)
        del self.s.groups[request.group_id]
        return graph_pb2.DeleteGroupResponse()

    async def AddGroupMember(self, request, context):
        await self._enter("AddGroupMember", request, context)
        group, members = await self._own(request, context)
        await self._records(request.user_id, [request.record_id], context)
        if request.record_id in members:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "already a member")
        members.append(request.record_id)
        return self._answer(group, members)

    async def RemoveGroupMember(self, request, context):
        await self._enter("RemoveGroupMember", request, context)
        group, members = await self._own(request, context)
        if request.record_id not in members:
            await self._missing(context, "not a member")
        members.remove(request.record_id)
        return self._answer(group, members)

    async def MergeGroups(self, request, context):
        await self._enter("MergeGroups", request, context)
        group, members = await self._own(graph_pb2.GetGroupRequest(
            user_id=request.user_id, group_id=request.target_group_id), context)
        _, others = await self._own(graph_pb2.GetGroupRequest(
            user_id=request.user_id, group_id=request.source_group_id), context)
        members.extend(m for m in others if m not in members)
        del self.s.groups[request.source_group_id]
        return self._answer(group, members)

    async def SplitGroup(self, request, context):
        await self._enter("SplitGroup", request, context)
        await self._own(request, context)
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "no split warranted")

    async def GetUserGraph(self, request, context):
        await self._enter("GetUserGraph", request, context)
        nodes = [r for o, r in self.s.records.values() if o == request.user_id]
        return graph_pb2.GraphResponse(
            nodes=nodes[request.offset:request.offset + (request.limit or 2_000)],
            links=[x for o, x in self.s.links.values() if o == request.user_id])


class Users(_Base, graph_pb2_grpc.UserServiceServicer):
    async def CreateUser(self, request, context):
        await self._enter("CreateUser", request, context)
        if any(u.email == request.email for u, _ in self.s.users.values()):
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, "email taken")
        user = graph_pb2.User(id=str(uuid.uuid4()), email=request.email,
                              display_name=request.display_name, settings_json="{}",
                              created_at=_now(), updated_at=_now())
        self.s.users[user.id] = (user, request.password_hash)
        return graph_pb2.UserResponse(user=user)

    async def GetUserCredentials(self, request, context):
        await self._enter("GetUserCredentials", request, context)
        for user, password_hash in self.s.users.values():
            if user.email == request.email:
                return graph_pb2.GetUserCredentialsResponse(user=user, password_hash=password_hash)
        await self._missing(context, "no such user")

    async def GetUser(self, request, context):
        await self._enter("GetUser", request, context)
        if request.user_id not in self.s.users:
            await self._missing(context, "no such user")
        return graph_pb2.UserResponse(user=self.s.users[request.user_id][0])

    async def UpdateUser(self, request, context):
        await self._enter("UpdateUser", request, context)
        if request.user_id not in self.s.users:
            await self._missing(context, "no such user")
        user = self.s.users[request.user_id][0]
        if request.HasField("display_name"):
            user.display_name = request.display_name
        if request.HasField("settings_json"):
            user.settings_json = request.settings_json
        user.updated_at.GetCurrentTime()
        return graph_pb2.UserResponse(user=user)


    async def RevokeTokens(self, request, context):
        await self._enter("RevokeTokens", request, context)
        if request.user_id not in self.s.users:
            await self._missing(context, "no such user")
        user, password_hash = self.s.users[request.user_id]
        user.token_version += 1
        self.s.users[request.user_id] = (user, request.password_hash or password_hash)
        return graph_pb2.UserResponse(user=user)


class DataSources(_Base, graph_pb2_grpc.DataSourceServiceServicer):
    async def _own(self, request, context):
        owner, ds, secret = self.s.sources.get(request.data_source_id, (None, None, None))
        if owner != request.user_id:
            await self._missing(context, "data source not found")
        return ds

    async def ListDataSources(self, request, context):
        await self._enter("ListDataSources", request, context)
        mine = [d for o, d, _ in self.s.sources.values() if o == request.user_id]
        return graph_pb2.ListDataSourcesResponse(
            data_sources=mine[request.offset:request.offset + request.limit], total=len(mine))

    async def CreateDataSource(self, request, context):
        await self._enter("CreateDataSource", request, context)
        ds = graph_pb2.DataSource(id=str(uuid.uuid4()), platform=request.platform,
                                  name=request.name, config_json=request.config_json,
                                  has_webhook_secret=bool(request.webhook_secret),
                                  created_at=_now(), updated_at=_now())
        self.s.sources[ds.id] = (request.user_id, ds, request.webhook_secret)
        return graph_pb2.DataSourceResponse(data_source=ds)

    async def GetDataSource(self, request, context):
        await self._enter("GetDataSource", request, context)
        return graph_pb2.DataSourceResponse(data_source=await self._own(request, context))

    async def UpdateDataSource(self, request, context):
        await self._enter("UpdateDataSource", request, context)
        ds = await self._own(request, context)
        owner, _, secret = self.s.sources[ds.id]
        if request.HasField("name"):
            ds.name = request.name
        if request.HasField("config_json"):
            ds.config_json = request.config_json
        if request.HasField("webhook_secret"):
            secret = request.webhook_secret
            ds.has_webhook_secret = bool(secret)
        self.s.sources[ds.id] = (owner, ds, secret)
        return graph_pb2.DataSourceResponse(data_source=ds)

    async def DeleteDataSource(self, request, context):
        await self._enter("DeleteDataSource", request, context)
        await self._own(request, context)
        del self.s.sources[request.data_source_id]
        return graph_pb2.DeleteDataSourceResponse()

    async def GetWebhookSecret(self, request, context):
        await self._enter("GetWebhookSecret", request, context)
        if request.data_source_id not in self.s.sources:
            await self._missing(context, "data source not found")
        owner, ds, secret = self.s.sources[request.data_source_id]
        return graph_pb2.GetWebhookSecretResponse(user_id=owner, platform=ds.platform,
                                                  webhook_secret=secret)


class Admin(_Base, graph_pb2_grpc.AdminServiceServicer):
    async def CheckDependencies(self, request, context):
        await self._enter("CheckDependencies", request, context)
        return graph_pb2.CheckDependenciesResponse(
            dependencies={"postgres": self.s.postgres, "neo4j": self.s.neo4j,
                          "lockcache": "up"}, outbox_pending=0)
