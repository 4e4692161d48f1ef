import pytest
from kushim_api import record_input
from kushim_api.webhooks import PayloadError, github, jira, slack

from tests.unit.api.payloads import load


def _valid(records):
    for item in records:
        record_input.parse(item)
    return records


def test_github_issue_keeps_its_references():
    [rec] = _valid(github.normalize("issues", load("github_issues_opened")))
    assert rec["externalId"] == "Codertocat/Hello-World/issues/12"
    assert rec["artifactType"] == "issue" and rec["sourcePlatform"] == "github"
    assert "PROJ-7" in rec["body"] and "https://github.com/Codertocat/Hello-World/pull/2" in rec[
        "body"]
    assert rec["metadata"]["ref"] == "Codertocat/Hello-World#12"
    assert rec["metadata"]["labels"] == ["bug"]
    assert rec["url"] == "https://github.com/Codertocat/Hello-World/issues/12"
    assert rec["timestamp"] == "2019-05-15T15:20:18Z"


def test_github_issue_comment_is_its_own_message_naming_the_issue():
    [rec] = _valid(github.normalize("issue_comment", load("github_issue_comment_created")))
    assert rec["externalId"] == "Codertocat/Hello-World/issues/12#issuecomment-492700400"
    assert rec["artifactType"] == "message" and rec["title"].startswith("Comment on #12:")
    assert "6dcb09b5b57875f334f61aebed695e2e4193db5e" in rec["body"]


def test_github_pull_request_keeps_branch_commit_and_fixes_reference():
    [rec] = _valid(github.normalize("pull_request", load("github_pull_request_opened")))
    assert rec["artifactType"] == "pull_request"
    assert rec["metadata"]["branch"] == "feature/PROJ-7-readme"
    assert rec["metadata"]["commit"] == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert "Fixes #12" in rec["body"]
    assert rec["participants"] == ["Codertocat", "octocat"]


def test_github_review_keeps_the_reviewed_commit():
    [rec] = _valid(github.normalize("pull_request_review",
                                    load("github_pull_request_review_submitted")))
    assert rec["externalId"].endswith("/pull/2#pullrequestreview-237895671")
    assert rec["metadata"]["commit"] == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert rec["title"].startswith("Review (commented) on #2")


def test_github_push_makes_one_record_per_commit():
    records = _valid(github.normalize("push", load("github_push")))
    assert [r["metadata"]["commit"] for r in records] == [
        "0000000000000000000000000000000000000001", "0000000000000000000000000000000000000002"]
    first, second = records
    assert first["artifactType"] == "commit" and first["title"] == "Fix typo in README (#12)"
    assert "Refs PROJ-7" in first["body"] and first["metadata"]["branch"] == "main"
    assert first["author"] == "Codertocat" and second["author"] == "Octo Cat"
    assert "0000000000000000000000000000000000000001" in second["body"]
    assert first["timestamp"] == "2019-05-15T15:20:30-07:00"


def test_github_other_events_and_deletions_make_nothing():
    assert github.normalize("star", {"action": "created"}) == []
    assert github.normalize("issues", {**load("github_issues_opened"), "action": "deleted"}) == []


def test_github_payload_missing_fields_raises():
    with pytest.raises(KeyError):
        github.normalize("issues", {"action": "opened", "repository": {"full_name": "a/b"}})


def test_slack_message_keeps_urls_and_mentions_readable():
    [rec] = _valid(slack.normalize(load("slack_message")))
    assert rec["externalId"] == "T123ABC456/C123ABC456/1355517523.000005"
    assert rec["body"] == ("Deploy of PR 2 (https://github.com/Codertocat/Hello-World/pull/2) "
                           "broke PROJ-7, cc @U222BBB222")
    assert rec["participants"] == ["U123ABC456", "U222BBB222"]
    assert rec["timestamp"].startswith("2012-12-14T20:38:43")
    assert slack.delivery_id(load("slack_message")) == "Ev123ABC456"


def test_slack_edit_updates_the_original_message():
    [rec] = _valid(slack.normalize(load("slack_message_changed")))
    assert rec["externalId"] == "T123ABC456/C123ABC456/1355517523.000005"
    assert rec["body"] == "Hello, world! (fixed in #12)"


def test_slack_url_verification_and_ignored_events():
    assert slack.challenge(load("slack_url_verification")).startswith("3eZbrw1aBm2")
    assert slack.challenge(load("slack_message")) is None
    assert slack.normalize({**load("slack_message"), "event": {
        "type": "message", "subtype": "channel_join", "channel": "C1", "ts": "1.0"}}) == []
    assert slack.normalize({"type": "event_callback", "event": {"type": "reaction_added"}}) == []
    with pytest.raises(PayloadError):
        slack.challenge({"type": "url_verification"})
    with pytest.raises(PayloadError):
        slack.delivery_id({"type": "event_callback"})


def test_slack_markup_conversion():
    assert slack.plain_text("<#C024BE7LR|general> <!here> a &lt;b&gt; <mailto:x@y.z>") == (
        "#general @here a <b> mailto:x@y.z")


def test_jira_issue_created():
    [rec] = _valid(jira.normalize(load("jira_issue_created")))
    assert rec["externalId"] == "your-domain.atlassian.net/issue/10001"
    assert rec["title"] == "PROJ-7: Login fails on Safari"
    assert rec["url"] == "https://your-domain.atlassian.net/browse/PROJ-7"
    assert rec["timestamp"] == "2018-05-07T13:03:57.729+10:00"
    assert rec["metadata"]["ticketId"] == "PROJ-7" and rec["metadata"]["issueType"] == "Bug"
    assert "6dcb09b5b57875f334f61aebed695e2e4193db5e" in rec["body"]


def test_jira_issue_updated_with_adf_description_and_comment():
    issue, comment = _valid(jira.normalize(load("jira_issue_updated")))
    assert issue["body"].strip() == ("Broken since #12. "
                                     "https://github.com/Codertocat/Hello-World/pull/2")
    assert issue["metadata"]["status"] == "In Progress"
    assert issue["participants"] == ["Mia Krystof", "Emma Richards"]
    assert comment["externalId"] == "your-domain.atlassian.net/issue/10001/comment/10050"
    assert "feature/PROJ-7-readme" in comment["body"]


def test_jira_comment_created():
    [rec] = _valid(jira.normalize(load("jira_comment_created")))
    assert rec["title"] == "Comment on PROJ-7: Login fails on Safari"
    assert rec["metadata"] == {"ticketId": "PROJ-7", "issueId": "10001", "commentId": "10051",
                               "event": "comment_created"}


def test_jira_other_events_and_bad_payloads():
    assert jira.normalize({"webhookEvent": "jira:issue_deleted"}) == []
    broken = load("jira_issue_created")
    del broken["issue"]["self"]
    with pytest.raises(PayloadError):
        jira.normalize(broken)


def test_slack_edit_without_message_ts_names_the_original_by_previous_message():
    payload = load("slack_message_changed")
    del payload["event"]["message"]["ts"]
    payload["event"]["previous_message"] = {"type": "message", "ts": "1355517523.000005"}
    [rec] = _valid(slack.normalize(payload))
    assert rec["externalId"] == "T123ABC456/C123ABC456/1355517523.000005"
    assert rec["body"] == "Hello, world! (fixed in #12)"


def test_slack_edit_without_any_message_ts_falls_back_to_the_event_ts():
    payload = load("slack_message_changed")
    del payload["event"]["message"]["ts"]
    [rec] = _valid(slack.normalize(payload))
    assert rec["externalId"] == "T123ABC456/C123ABC456/1358878755.000001"


def test_slack_events_that_name_no_message_make_no_record():
    payload = load("slack_message_changed")
    del payload["event"]["message"]
    assert slack.normalize(payload) == []
    payload = load("slack_message_changed")
    for key in ("ts",):
        del payload["event"]["message"][key]
        del payload["event"][key]
    assert slack.normalize(payload) == []


def test_github_review_comment_is_a_record_naming_its_pull_request():
    payload = load("github_pull_request_review_comment_created")
    [rec] = _valid(github.normalize("pull_request_review_comment", payload))
    assert rec["externalId"] == "Codertocat/Hello-World/pull/2#discussion_r284312630"
    assert rec["artifactType"] == "message"
    assert rec["title"].startswith("Review comment on #2")
    assert rec["metadata"]["parentUrl"] == "https://github.com/Codertocat/Hello-World/pull/2"
    assert rec["metadata"]["ref"] == "Codertocat/Hello-World#2"
    assert rec["metadata"]["path"] == "README.md"
    assert github.normalize("pull_request_review_comment", {**payload, "action": "deleted"}) == []
