"""Context-group changes in the database, decided by the pure rules of grouping.py.

Every function runs inside the caller's transaction, after `db.groups.lock_user`, and answers
the ids of the groups it changed (created, modified or deleted) for the outbox.
"""

from kushim_graph.db import groups, links, records
from kushim_graph.discovery import grouping
from kushim_graph.errors import FailedPrecondition

# Topics come from the most recent members; a huge group costs the same as a big one.
TOPIC_SAMPLE = 20


async def apply_links(conn, user_id: str, pairs) -> set:
    """Group changes for newly linked record pairs: create, join or merge.

    Pairs touching the largest groups go first, so a record linked into several groups joins
    the biggest one and the others merge into it.
    """
    touched: set = set()
    created: set = set()
    sizes = await groups.groups_of(conn, user_id, {r for pair in pairs for r in pair})

    def biggest(pair) -> tuple:
        return (-max(sizes.get(r, (None, 0))[1] for r in pair), str(pair[0]), str(pair[1]))

    for a, b in sorted(pairs, key=biggest):
        grouped = await groups.groups_of(conn, user_id, [a, b])
        group_a, size_a = grouped.get(a, (None, 0))
        group_b, size_b = grouped.get(b, (None, 0))
        plan = grouping.plan_membership(
            str(group_a) if group_a else None, size_a, str(group_b) if group_b else None, size_b
        )
        if plan.action == "create":
            group_id = await groups.insert(conn, user_id, grouping.FALLBACK_NAME)
            await groups.add_members(conn, user_id, group_id, [a, b])
            created.add(group_id)
            touched.add(group_id)
        elif plan.action == "join":
            target = group_a or group_b
            await groups.add_members(conn, user_id, target, [b if group_a else a])
            touched.add(target)
        elif plan.action == "merge":
            target = group_a if str(group_a) == plan.target_group else group_b
            source = group_b if target == group_a else group_a
            await groups.move_members(conn, user_id, source, target)
            await groups.delete(conn, user_id, source)
            touched |= {target, source}
            created.discard(source)
    changed = set(touched)
    for group_id in touched:
        if await groups.get(conn, user_id, group_id) is not None:
            changed |= await refresh(conn, user_id, group_id, rename=group_id in created)
    return changed


async def refresh(conn, user_id: str, group_id, *, rename: bool = False, split: bool = True):
    """Recomputes coherence and topics; splits an incoherent group into its components."""
    member_ids = await groups.members(conn, user_id, group_id)
    link_rows = await links.among(conn, user_id, member_ids)
    if split:
        parts = await _split_if_warranted(conn, user_id, group_id, member_ids, link_rows)
        if parts is not None:
            return parts
    await _update_stats(conn, user_id, group_id, member_ids, link_rows, rename=rename)
    return {group_id}


async def split(conn, user_id: str, group_id) -> set:
    """SplitGroup: FailedPrecondition when coherence and size do not warrant a split."""
    member_ids = await groups.members(conn, user_id, group_id)
    link_rows = await links.among(conn, user_id, member_ids)
    parts = await _split_if_warranted(conn, user_id, group_id, member_ids, link_rows)
    if parts is None:
        raise FailedPrecondition(
            "no split warranted: a group splits when coherence < 0.4 and it has >= 5 members"
        )
    return parts


def _tuples(link_rows) -> list[grouping.LinkTuple]:
    return [
        (str(r["source_record_id"]), str(r["target_record_id"]), r["confidence"])
        for r in link_rows
    ]


async def _split_if_warranted(conn, user_id: str, group_id, member_ids, link_rows):
    tuples = _tuples(link_rows)
    ids = [str(m) for m in member_ids]
    if not grouping.should_split(len(ids), grouping.coherence(ids, tuples)):
        return None
    components = grouping.connected_components(ids, tuples)
    by_str = {str(m): m for m in member_ids}
    keep, *others = components
    changed = {group_id}
    for component in others:
        moved = [by_str[m] for m in component]
        await groups.remove_members(conn, user_id, group_id, moved)
        if len(component) >= 2:
            new_id = await groups.insert(conn, user_id, grouping.FALLBACK_NAME)
            await groups.add_members(conn, user_id, new_id, moved)
            await _update_stats(conn, user_id, new_id, moved, link_rows, rename=True)
            changed.add(new_id)
    kept = [by_str[m] for m in keep]
    await _update_stats(conn, user_id, group_id, kept, link_rows, rename=False)
    return changed


async def _update_stats(conn, user_id: str, group_id, member_ids, link_rows, *, rename: bool):
    value = grouping.coherence([str(m) for m in member_ids], _tuples(link_rows))
    sample = await groups.member_text(conn, user_id, group_id, TOPIC_SAMPLE)
    tfs = [row["term_freqs"] for row in sample]
    terms = sorted({term for tf in tfs for term in tf})
    df, n_docs = await records.document_frequencies(conn, user_id, terms)
    await groups.update_stats(conn, user_id, group_id, grouping.topics(tfs, df, n_docs), value)
    if rename:
        titles = [row["title"] for row in reversed(sample)]
        await groups.rename(conn, user_id, group_id, grouping.group_name(titles))
