"""Every text path of the gateway on a megabyte of repeated delimiters: the normalizers of each
platform and the validators finish far inside the deadline (a quadratic pattern takes hours)."""

import contextlib

import pytest
from kushim_api import bodies
from kushim_api.errors import ValidationError
from kushim_api.webhooks import MALFORMED, github, jira, slack

from tests.unit.deadline import finishes_in_time, megabyte_runs

# Near-misses of Slack markup: an opening that never closes, a label that never ends.
SLACK_PIECES = ["<http:", "<https://x|", "<mailto:", "<@U1|", "<@U1", "<#C1|", "<!here|", "<",
                "|", ">", "&lt;", "\n"]
TEXT_PIECES = ["<", ">", "#1", "a/", "PROJ-", "http://", "\\", "\\u0000", "\n", " ", "\ud800"]


def _slack(text: str) -> None:
    slack.normalize({"type": "event_callback", "event_id": "Ev1", "team_id": "T1", "event": {
        "type": "message", "channel": "C1", "user": "U1", "ts": "1700000000.000100",
        "text": text,
    }})


def _github(text: str) -> None:
    repo = {"full_name": "o/r"}
    issue = {"number": 1, "title": text, "body": text, "created_at": "2024-01-01T00:00:00Z"}
    github.normalize("issues", {"action": "opened", "repository": repo, "issue": issue})
    github.normalize("push", {"repository": repo, "ref": "refs/heads/x", "commits": [
        {"id": "a" * 40, "message": text, "timestamp": "2024-01-01T00:00:00Z"},
    ]})


def _jira(text: str) -> None:
    issue = {"id": "1", "key": "P-1", "self": "https://x.atlassian.net/rest/api/2/issue/1",
             "fields": {"summary": text, "description": text,
                        "updated": "2024-01-01T00:00:00.000+0000"}}
    jira.normalize({"webhookEvent": "jira:issue_updated", "issue": issue})
    adf = {"type": "doc", "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": text}]}]}
    jira.adf_text(adf)


def _metadata(text: str) -> None:
    with contextlib.suppress(ValidationError):
        bodies.parse(bodies.UserPatch, {"settings": {"k": text}})


def _malformed_tolerant(work):
    def run(text: str) -> None:
        with contextlib.suppress(MALFORMED):
            work(text)
    return run


@pytest.mark.parametrize("work, pieces", [
    (slack.plain_text, SLACK_PIECES),
    (_slack, SLACK_PIECES),
    (_malformed_tolerant(_github), TEXT_PIECES),
    (_malformed_tolerant(_jira), TEXT_PIECES),
    (_metadata, TEXT_PIECES),
], ids=["slack-markup", "slack-normalize", "github-normalize", "jira-normalize", "metadata"])
def test_a_megabyte_of_delimiters_is_handled_in_linear_time(work, pieces):
    assert finishes_in_time(work, megabyte_runs(pieces))


def test_slack_markup_still_reads_every_form_after_the_linear_patterns():
    text = "<https://x.io/a|label> <https://y.io> <@U1|ann> <#C1|general> <!here> <@U2>"
    assert slack.plain_text(text) == "label (https://x.io/a) https://y.io @U1 #general @here @U2"
    # An unclosed opening no longer swallows the markup after it.
    assert slack.plain_text("<http: <@U3>") == "<http: @U3"
