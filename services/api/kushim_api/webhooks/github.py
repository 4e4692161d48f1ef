"""GitHub webhook events to records: issues, issue_comment, pull_request,
pull_request_review, pull_request_review_comment, and push (one record per commit)."""

from typing import Any

from kushim_api.webhooks import (
    BODY_MAX,
    TITLE_MAX,
    PayloadError,
    clip,
    first_line,
    people,
    record,
)

EVENTS = (
    "issues", "issue_comment", "pull_request", "pull_request_review",
    "pull_request_review_comment", "push",
)


def _login(user: Any) -> str:
    return user.get("login", "") if isinstance(user, dict) else ""


def _repo(payload: dict) -> str:
    name = payload["repository"]["full_name"]
    if not isinstance(name, str) or not name:
        raise PayloadError("repository.full_name is missing")
    return name


def _labels(item: dict) -> list[str]:
    return [x["name"] for x in item.get("labels") or () if isinstance(x, dict) and "name" in x]


def _issue(payload: dict) -> dict:
    issue, repo = payload["issue"], _repo(payload)
    number = issue["number"]
    return {
        "externalId": f"{repo}/issues/{number}",
        "sourcePlatform": "github",
        "artifactType": "issue",
        "title": clip(issue["title"], TITLE_MAX),
        "body": clip(issue.get("body"), BODY_MAX),
        "url": issue.get("html_url"),
        "author": _login(issue.get("user")),
        "timestamp": issue.get("updated_at") or issue["created_at"],
        "participants": people(
            _login(issue.get("user")), *(_login(a) for a in issue.get("assignees") or ()),
            _login(payload.get("sender")),
        ),
        "metadata": {
            "repository": repo, "number": number, "ref": f"{repo}#{number}",
            "state": issue.get("state"), "labels": _labels(issue), "action": payload.get("action"),
        },
    }


def _issue_comment(payload: dict) -> dict:
    issue, comment, repo = payload["issue"], payload["comment"], _repo(payload)
    number = issue["number"]
    on_pull = "pull_request" in issue
    return {
        "externalId": f"{repo}/issues/{number}#issuecomment-{comment['id']}",
        "sourcePlatform": "github",
        "artifactType": "message",
        "title": clip(f"Comment on #{number}: {issue['title']}", TITLE_MAX),
        "body": clip(comment.get("body"), BODY_MAX),
        "url": comment.get("html_url"),
        "author": _login(comment.get("user")),
        "timestamp": comment.get("updated_at") or comment["created_at"],
        "participants": people(_login(comment.get("user")), _login(issue.get("user"))),
        "metadata": {
            "repository": repo, "number": number, "ref": f"{repo}#{number}",
            "commentId": comment["id"], "onPullRequest": on_pull,
            "parentUrl": issue.get("html_url"), "action": payload.get("action"),
        },
    }


def _pull_request(payload: dict) -> dict:
    pr, repo = payload["pull_request"], _repo(payload)
    number = pr["number"]
    head, base = pr.get("head") or {}, pr.get("base") or {}
    return {
        "externalId": f"{repo}/pull/{number}",
        "sourcePlatform": "github",
        "artifactType": "pull_request",
        "title": clip(pr["title"], TITLE_MAX),
        "body": clip(pr.get("body"), BODY_MAX),
        "url": pr.get("html_url"),
        "author": _login(pr.get("user")),
        "timestamp": pr.get("updated_at") or pr["created_at"],
        "participants": people(
            _login(pr.get("user")),
            *(_login(a) for a in pr.get("assignees") or ()),
            *(_login(r) for r in pr.get("requested_reviewers") or ()),
            _login(payload.get("sender")),
        ),
        "metadata": {
            "repository": repo, "number": number, "ref": f"{repo}#{number}",
            "branch": head.get("ref"), "baseBranch": base.get("ref"), "commit": head.get("sha"),
            "state": pr.get("state"), "merged": bool(pr.get("merged")),
            "labels": _labels(pr), "action": payload.get("action"),
        },
    }


def _review(payload: dict) -> dict:
    review, pr, repo = payload["review"], payload["pull_request"], _repo(payload)
    number = pr["number"]
    state = str(review.get("state") or "").lower()
    return {
        "externalId": f"{repo}/pull/{number}#pullrequestreview-{review['id']}",
        "sourcePlatform": "github",
        "artifactType": "message",
        "title": clip(f"Review ({state}) on #{number}: {pr['title']}", TITLE_MAX),
        "body": clip(review.get("body"), BODY_MAX),
        "url": review.get("html_url"),
        "author": _login(review.get("user")),
        "timestamp": review.get("submitted_at") or pr.get("updated_at"),
        "participants": people(_login(review.get("user")), _login(pr.get("user"))),
        "metadata": {
            "repository": repo, "number": number, "ref": f"{repo}#{number}",
            "reviewId": review["id"], "state": state, "commit": review.get("commit_id"),
            "branch": (pr.get("head") or {}).get("ref"), "parentUrl": pr.get("html_url"),
            "action": payload.get("action"),
        },
    }


def _review_comment(payload: dict) -> dict:
    """A comment on a line of a PR's diff: its own message record naming the PR (by `#n`,
    its URL as `parentUrl`, its head branch), which is what links it to the PR."""
    comment, pr, repo = payload["comment"], payload["pull_request"], _repo(payload)
    number = pr["number"]
    return {
        "externalId": f"{repo}/pull/{number}#discussion_r{comment['id']}",
        "sourcePlatform": "github",
        "artifactType": "message",
        "title": clip(f"Review comment on #{number}: {pr['title']}", TITLE_MAX),
        "body": clip(comment.get("body"), BODY_MAX),
        "url": comment.get("html_url"),
        "author": _login(comment.get("user")),
        "timestamp": comment.get("updated_at") or comment["created_at"],
        "participants": people(_login(comment.get("user")), _login(pr.get("user"))),
        "metadata": {
            "repository": repo, "number": number, "ref": f"{repo}#{number}",
            "commentId": comment["id"], "reviewId": comment.get("pull_request_review_id"),
            "path": comment.get("path"), "line": comment.get("line"),
            "commit": comment.get("commit_id"), "branch": (pr.get("head") or {}).get("ref"),
            "parentUrl": pr.get("html_url"), "action": payload.get("action"),
        },
    }


def _commit_author(commit: dict) -> str:
    author = commit.get("author") or {}
    return author.get("username") or author.get("name") or ""


def _push(payload: dict) -> list[dict]:
    repo, ref = _repo(payload), payload["ref"]
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    pusher = (payload.get("pusher") or {}).get("name")
    records = []
    for commit in payload.get("commits") or ():
        sha, message = commit["id"], commit.get("message") or ""
        committer = commit.get("committer") or {}
        records.append({
            "externalId": f"{repo}/commit/{sha}",
            "sourcePlatform": "github",
            "artifactType": "commit",
            "title": first_line(message) or sha[:12],
            "body": clip(message, BODY_MAX),
            "url": commit.get("url"),
            "author": _commit_author(commit),
            "timestamp": commit["timestamp"],
            "participants": people(
                _commit_author(commit), committer.get("username") or committer.get("name"),
                pusher,
            ),
            "metadata": {
                "repository": repo, "commit": sha, "ref": ref, "branch": branch,
                "added": list(commit.get("added") or ())[:50],
                "modified": list(commit.get("modified") or ())[:50],
                "removed": list(commit.get("removed") or ())[:50],
            },
        })
    return records


def _records(event: str, payload: dict) -> list[dict]:
    if event == "issues":
        return [_issue(payload)] if payload.get("action") != "deleted" else []
    if event == "issue_comment":
        return [_issue_comment(payload)] if payload.get("action") != "deleted" else []
    if event == "pull_request":
        return [_pull_request(payload)]
    if event == "pull_request_review":
        return [_review(payload)]
    if event == "pull_request_review_comment":
        return [_review_comment(payload)] if payload.get("action") != "deleted" else []
    if event == "push":
        return _push(payload)
    return []


def normalize(event: str, payload: dict) -> list[dict]:
    """Records for one delivery; [] for events that carry none (ping, deletions, others)."""
    return [record(item) for item in _records(event, payload)]
