"""Record payloads shared by the gateway tests."""


def record(external_id: str = "PROJ-7", **fields) -> dict:
    body = {
        "externalId": external_id,
        "sourcePlatform": "jira",
        "artifactType": "task",
        "title": f"{external_id}: login fails on Safari",
        "body": "Steps: open the login page. See #12 and https://example.com/x",
        "author": "ada",
        "timestamp": "2024-05-01T12:00:00+02:00",
        "participants": ["ada", "bob"],
        "metadata": {"ticketId": external_id},
    }
    body.update(fields)
    return body
