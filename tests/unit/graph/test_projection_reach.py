from kushim_graph.contexts.reach import projected as reached
from kushim_graph.projection.worker import Changes

NOTHING_HELD = {"links": {}, "members": {}, "neighbours": {}}


def link(link_id, source, target, user="u"):
    return {"id": link_id, "user_id": user, "source": source, "target": target}


def group(group_id, members, user="u"):
    return {"id": group_id, "user_id": user, "members": members}


def test_a_new_link_reaches_both_ends_and_a_known_one_no_one():
    changes = Changes(links=[link("l1", "a", "b"), link("l2", "c", "d")])
    held = NOTHING_HELD | {"links": {"l2": ("c", "d")}}
    assert reached(changes, held, {}) == {"u": {"a", "b"}}


def test_a_deleted_link_reaches_the_ends_neo4j_held():
    changes = Changes(deleted_links=["l1", "gone-before"])
    held = NOTHING_HELD | {"links": {"l1": ("a", "b")}}
    assert reached(changes, held, {"l1": "u", "gone-before": "u"}) == {"u": {"a", "b"}}


def test_a_group_reaches_the_members_that_joined_or_left():
    changes = Changes(groups=[group("g1", ["a", "b", "c"])], deleted_groups=["g2"])
    held = NOTHING_HELD | {"members": {"g1": {"a", "b", "x"}, "g2": {"y"}}}
    assert reached(changes, held, {"g2": "v"}) == {"u": {"c", "x"}, "v": {"y"}}


def test_changed_record_fields_reach_no_one_and_a_deleted_record_its_neighbours():
    changes = Changes(records=[{"id": "a", "user_id": "u"}], deleted_records=["d"])
    held = NOTHING_HELD | {"neighbours": {"d": {"n1", "n2"}}}
    assert reached(changes, held, {"d": "u"}) == {"u": {"d", "n1", "n2"}}


def test_an_unchanged_group_reaches_no_one():
    changes = Changes(groups=[group("g1", ["a", "b"])])
    held = NOTHING_HELD | {"members": {"g1": {"a", "b"}}}
    assert reached(changes, held, {}) == {}
