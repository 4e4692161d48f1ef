"""Context subgraphs: traversal in Neo4j (PostgreSQL while it is down), content from PostgreSQL,
cached through lockcache."""

import logging

import asyncpg
from kushim.graph.v1 import graph_pb2
from kushim_common.statelog import StateLog

from kushim_graph import messages
from kushim_graph.db import groups, links, records
from kushim_graph.db.neo4j_store import Neo4jStore
from kushim_graph.errors import NotFound, Unavailable
from kushim_graph.lockcache import LockCacheClient, context_key

log = logging.getLogger(__name__)

MAX_CONTEXT_NODES = 500


class ContextReader:
    def __init__(
        self, pool: asyncpg.Pool, store: Neo4jStore, lockcache: LockCacheClient, *, ttl_s: int
    ) -> None:
        self.pool = pool
        self.store = store
        self.lockcache = lockcache
        self.ttl_s = ttl_s
        self._neo4j = StateLog(
            log, up="Context reads traverse Neo4j again",
            down="Context reads traverse PostgreSQL while Neo4j is down: %s",
        )

    async def get(self, user_id: str, record_id: str, depth: int):
        """(subgraph, cached). NotFound for another user's or a missing record."""
        key = context_key(user_id, record_id, depth)
        lease = await self.lockcache.get_or_lease(key)
        if lease.value is not None:
            log.info("Cache hit for context group: %s:%d", record_id, depth)
            return graph_pb2.Subgraph.FromString(lease.value), True
        subgraph = await self.compute(user_id, record_id, depth)
        if lease.lease_token:
            # The entry is dropped when one of its records is written (reach.py names the
            # records a write reaches). Every link and group it shows is one of these records'
            # (a link's endpoints are both in it, a group is shown for its members in it), so
            # the records are all it depends on.
            await self.lockcache.fill(
                key, lease.lease_token, subgraph.SerializeToString(), self.ttl_s,
                [node.id for node in subgraph.nodes],
            )
        return subgraph, False

    async def _traverse(self, user_id: str, record_id: str, depth: int):
        """Neo4j's answer, or None when the record is not projected yet or Neo4j cannot
        answer: then the caller walks the links in PostgreSQL, the source of truth."""
        try:
            found = await self.store.subgraph(user_id, record_id, depth, MAX_CONTEXT_NODES)
        except Unavailable as exc:
            self._neo4j.report(False, exc)
            return None
        self._neo4j.report(True)
        return found

    async def compute(self, user_id: str, record_id: str, depth: int) -> graph_pb2.Subgraph:
        async with self.pool.acquire() as conn:
            if await records.get_many(conn, user_id, [record_id]) == []:
                raise NotFound(f"record {record_id} not found")
        found = await self._traverse(user_id, record_id, depth)
        async with self.pool.acquire() as conn:
            if found is None:
                node_ids = await links.neighborhood(
                    conn, user_id, record_id, depth, MAX_CONTEXT_NODES + 1
                )
                link_rows = await links.among(conn, user_id, node_ids)
                group_ids = {group for group, _ in
                             (await groups.groups_of(conn, user_id, node_ids)).values()}
            else:
                node_ids, link_ids, group_ids = found
                link_rows = await links.get_many(conn, user_id, link_ids)
            node_rows = await records.get_many(conn, user_id, node_ids)
            group_rows = await groups.get_many(conn, user_id, list(group_ids))
        present = {row["id"] for row in node_rows}
        node_rows = sorted(
            node_rows, key=lambda r: (str(r["id"]) != record_id, r["occurred_at"], str(r["id"]))
        )
        link_rows = sorted(
            (r for r in link_rows
             if r["source_record_id"] in present and r["target_record_id"] in present),
            key=lambda r: (-r["confidence"], str(r["id"])),
        )
        return graph_pb2.Subgraph(
            nodes=[messages.record(r) for r in node_rows],
            links=[messages.link(r) for r in link_rows],
            groups=[messages.group(r) for r in sorted(group_rows, key=lambda r: str(r["id"]))],
        )
