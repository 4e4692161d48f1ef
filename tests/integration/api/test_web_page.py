"""The web page in a real browser (headless chromium) against a real gateway process on the
test stack: sign-up to a context graph of uploaded records, the edge explanation and its
feedback, groups, data sources, the footer's status, and hostile record fields."""

import json
import os
from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.integration.api.browser import Api, Page, chromium
from tests.integration.api.support import start_gateway, unique_email, wait_for

PASSWORD = "correct horse battery"  # noqa: S105 - a test account's password
XSS_TITLE = "<img src=x onerror=alert(1)>"
COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"


def record(external_id: str, platform: str, artifact: str, title: str, **fields) -> dict:
    return {
        "externalId": external_id, "sourcePlatform": platform, "artifactType": artifact,
        "title": title, "body": fields.pop("body", "Cart page details."), "author": "ada",
        "timestamp": "2024-05-01T12:00:00+02:00", "participants": ["ada"], **fields,
    }


UPLOAD = [
    record("WEB-7", "jira", "task", "WEB-7: checkout crashes on empty cart",
           metadata={"ticketId": "WEB-7"}),
    record(COMMIT, "github", "commit", "Fix WEB-7: guard empty cart",
           metadata={"commit": COMMIT, "branch": "main"}),
    record("pr-88", "github", "pull_request", "WEB-7 guard the empty cart in checkout",
           metadata={"branch": "fix/WEB-7"}, body="Fixes WEB-7. Adds a guard."),
]


@pytest.fixture(scope="module")
def gateway(backends):
    process, port = start_gateway(backends.log, backends.graph_addr, backends.lockcache_addr,
                                  name="api-web")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
def driver():
    browser = chromium()
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def page(driver, gateway):
    driver.delete_all_cookies()
    tab = Page(driver, gateway)
    tab.open()
    driver.execute_script("sessionStorage.clear()")
    driver.get_log("browser")  # start each test with an empty console
    return tab


@pytest.fixture
def api(gateway) -> Api:
    return Api(gateway)


def artifacts_dir() -> Path:
    var = os.environ.get("KUSHIM_TEST_VAR_DIR") or str(Path(__file__).parents[3] / "var")
    return Path(var) / "web"


def sign_up(page: Page) -> str:
    page.open("#/search")
    page.type_into("input[name=email]", unique_email())
    page.type_into("input[name=password]", PASSWORD)
    page.find("#register").click()
    page.find("form.ingest")
    return page.token()


def upload(page: Page, tmp_path: Path, lines: list[str]) -> dict[str, str]:
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(lines) + "\n")
    page.open("#/ingest")
    page.find("input[type=file]").send_keys(str(source))
    page.find("form.ingest button[type=submit]").click()
    page.text_of(".progress .status", lambda text: text.startswith("Done"))
    bar = page.find(".progress progress")
    assert bar.get_attribute("value") == bar.get_attribute("max")
    return {name: page.find(f".counts .count-{name}").text
            for name in ("created", "updated", "unchanged", "rejected", "links")}


def click_on_canvas(page: Page, canvas, where: str, element_id: str) -> None:
    """A real mouse click where cytoscape drew the node (renderedPosition) or the edge's
    middle (renderedMidpoint); cytoscape keeps its instance on the container as _cyreg."""
    x, y = page.driver.execute_script(
        "const e = document.getElementById('graph')._cyreg.cy.$id(arguments[0]);"
        "const p = e[arguments[1]](); return [p.x, p.y];", element_id, where)
    ActionChains(page.driver).move_to_element_with_offset(
        canvas, int(x - canvas.size["width"] / 2), int(y - canvas.size["height"] / 2)
    ).click().perform()


def outbox_drained(api: Api) -> None:
    """Neo4j is a projection: a context graph is read once the outbox has drained."""
    wait_for(lambda: api.call("GET", "/health/ready")[1].get("outboxPending") == 0)


def test_a_new_user_goes_from_sign_up_to_the_graph_of_their_upload(page, api, tmp_path):
    token = sign_up(page)
    assert token and token not in page.driver.current_url

    lines = [json.dumps(r) for r in UPLOAD] + ["{not json", json.dumps({"externalId": "x"})]
    counts = upload(page, tmp_path, lines)
    assert counts["created"] == "3" and counts["rejected"] == "2", counts
    assert int(counts["links"]) >= 1
    rejections = [li.text for li in page.find_all(".rejections li")]
    assert rejections[0] == "line 4: not valid JSON" and rejections[1].startswith("line 5:")
    outbox_drained(api)

    page.find("nav a[href='#/search']").click()
    page.type_into("input[name=search]", "checkout")
    page.find("select[name=source] option[value=jira]").click()
    page.find("form.filters button[type=submit]").click()

    def filtered_rows():
        rows = page.find_all(".results tbody tr")
        badges = [row.find_element(By.CSS_SELECTOR, ".badge").text for row in rows]
        return badges == ["jira"] and rows

    [row] = page.until(filtered_rows)
    assert row.find_element(By.CSS_SELECTOR, "a.title").text == UPLOAD[0]["title"]
    ticket_id = row.get_attribute("data-record-id")
    row.find_element(By.CSS_SELECTOR, "a.title").click()

    page.text_of("h2.record-title", lambda text: text == UPLOAD[0]["title"])
    canvas = page.find("#graph[data-nodes]")
    context = api.get(f"/records/{ticket_id}/context?depth=2", token)
    node_ids = {n["id"] for n in context["nodes"]}
    link_ids = {x["id"] for x in context["links"]}
    shown_nodes = {li.get_attribute("data-record-id") for li in page.find_all(".node-list li")}
    shown_links = {li.get_attribute("data-link-id") for li in page.find_all(".link-list li")}
    assert shown_nodes == node_ids and shown_links == link_ids
    assert canvas.get_attribute("data-nodes") == str(len(node_ids))
    assert canvas.get_attribute("data-edges") == str(len(link_ids))
    commit_id = next(n["id"] for n in context["nodes"] if n["externalId"] == COMMIT)
    commit_link = next(x for x in context["links"]
                       if {x["sourceRecordId"], x["targetRecordId"]} == {ticket_id, commit_id})

    # the edge panel by keyboard: Enter on the link's entry, Escape back to it
    entry = page.find(f".link-list li[data-link-id='{commit_link['id']}'] button")
    entry.send_keys(Keys.ENTER)
    explanation = api.get(f"/links/{commit_link['id']}/explanation", token)
    page.text_of(".edge-panel .score", lambda text: text == f"{explanation['score']:.2f}")
    assert page.find(".edge-panel .method").text == explanation["method"]
    signal_rows = page.find_all(".edge-panel table.signals tbody tr")
    assert [r.find_element(By.CSS_SELECTOR, "td").text for r in signal_rows] == [
        s["name"] for s in explanation["signals"]]
    page.find(".edge-panel .feedback-positive").click()
    page.text_of(".edge-panel .status", lambda text: text == "Feedback recorded: positive")
    stored = api.get(f"/links/between/{ticket_id}/{commit_id}", token)
    assert stored["feedback"] == "positive"
    page.text_of(f".link-list li[data-link-id='{commit_link['id']}'] .feedback",
                 lambda text: text.endswith("marked positive"))
    page.screenshot(artifacts_dir() / "record-graph.png")
    page.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(lambda: not page.find_all(".edge-panel")[0].is_displayed())

    # on the canvas: clicking an edge opens its explanation, clicking a node re-centres
    click_on_canvas(page, canvas, "renderedMidpoint", commit_link["id"])
    page.text_of(".edge-panel .link-ends", lambda text: UPLOAD[1]["title"] in text)
    click_on_canvas(page, canvas, "renderedPosition", commit_id)
    wait_for(lambda: page.hash().startswith(f"#/records/{commit_id}"))
    page.text_of("h2.record-title", lambda text: text == UPLOAD[1]["title"])

    groups = wait_for(lambda: api.get("/context-groups", token)["items"])
    page.find("nav a[href='#/groups']").click()
    page.find(f".groups tr[data-group-id='{groups[0]['id']}'] a").click()
    page.text_of("section.group h2", lambda text: text == groups[0]["name"])
    members = api.get(f"/context-groups/{groups[0]['id']}", token)["members"]
    shown = {li.get_attribute("data-record-id") for li in page.find_all(".members li")}
    assert shown == {m["id"] for m in members} and ticket_id in shown
    assert page.find("#graph[data-nodes]").get_attribute("data-nodes") == str(len(members))
    errors = page.console_errors()
    assert errors == [], "\n".join(errors)


def test_an_upload_goes_in_batches_and_names_rejected_lines_across_them(page, api, tmp_path):
    token = sign_up(page)
    lines = [json.dumps(record(f"N-{i}", "other", "document", f"Note {i}")) for i in range(100)]
    lines.append(json.dumps(record("N-100", "myspace", "document", "Note 100")))  # batch 2
    counts = upload(page, tmp_path, lines)
    assert (counts["created"], counts["rejected"]) == ("100", "1"), counts
    assert page.find(".progress progress").get_attribute("max") == "2"
    [rejection] = [li.text for li in page.find_all(".rejections li")]
    assert rejection.startswith("line 101: sourcePlatform")
    assert api.get("/records?limit=1", token)["total"] == 100


def test_a_hostile_title_renders_as_text_and_runs_nothing(page, api, tmp_path):
    token = sign_up(page)
    status, made = api.call("POST", "/records", token, record(
        "xss-1", "slack", "message", XSS_TITLE, body=XSS_TITLE,
        author="<script>alert(3)</script>"))
    assert status == 201, made
    outbox_drained(api)

    page.open("#/search")
    link = page.find(".results tbody a.title")
    assert link.text == XSS_TITLE
    assert page.find(".results tbody").text.count("<script>alert(3)</script>") == 1
    link.click()
    page.text_of("h2.record-title", lambda text: text == XSS_TITLE)
    assert page.find(".record-body").text == XSS_TITLE
    assert page.find(".node-list strong.title").text == XSS_TITLE
    assert page.find_all("main img, main script") == []
    with pytest.raises(NoAlertPresentException):
        page.driver.switch_to.alert.text  # noqa: B018 - raises unless an alert is open
    errors = page.console_errors()
    assert errors == [], "\n".join(errors)


def test_a_group_is_renamed_merged_and_refused_a_split_on_its_page(page, api):
    token = sign_up(page)
    ids = []
    for external_id, title in (("G-1", "Billing export"), ("G-2", "Invoice layout")):
        status, made = api.call("POST", "/records", token, record(
            external_id, "google", "document", title, body=f"{title} notes."))
        assert status == 201, made
        ids.append(made["record"]["id"])
    made_groups = []
    for name, member in (("Billing", ids[0]), ("Invoices", ids[1])):
        status, made = api.call("POST", "/context-groups", token,
                                {"name": name, "recordIds": [member]})
        assert status == 201, made
        made_groups.append(made)
    target, source = made_groups

    page.open(f"#/groups/{target['id']}")
    page.text_of("section.group h2", lambda text: text == "Billing")
    page.type_into("section.group input[name=name]", "Billing and invoices")
    page.find("section.group input[name=name]").send_keys(Keys.ENTER)
    page.text_of("section.group h2", lambda text: text == "Billing and invoices")
    assert api.get(f"/context-groups/{target['id']}", token)["name"] == "Billing and invoices"

    page.find(f"select[name=sourceGroupId] option[value='{source['id']}']").click()
    page.find("select[name=sourceGroupId]").submit()
    page.until(lambda: {li.get_attribute("data-record-id")
                        for li in page.find_all(".members li")} == set(ids))
    status, _ = api.call("GET", f"/context-groups/{source['id']}", token)
    assert status == 404

    page.find("section.group button.split").click()
    assert page.text_of("section.group .status", bool).startswith("Not split: ")
    assert api.get(f"/context-groups/{target['id']}", token)["memberCount"] == 2


def test_a_data_source_shows_its_webhook_secret_once_and_can_be_deleted(page, api):
    token = sign_up(page)
    page.open("#/sources")
    page.type_into("input[name=name]", "Shop repo")
    page.find("form.inline-form button[type=submit]").click()
    secret = page.text_of(".notice .webhook-secret", lambda text: len(text) >= 16)
    url = page.find(".notice .webhook-url").text
    [source] = api.get("/data-sources", token)["items"]
    assert url == f"{page.base_url}/webhooks/github/{source['id']}"
    assert source["hasWebhookSecret"] is True

    page.driver.refresh()
    row = page.find(f"tr[data-source-id='{source['id']}']")
    assert secret not in page.find("main").text
    button = row.find_element(By.CSS_SELECTOR, "button.danger")
    button.click()
    assert api.get("/data-sources", token)["total"] == 1  # the first press only arms it
    page.text_of(f"tr[data-source-id='{source['id']}'] button.danger",
                 lambda text: text == "Confirm delete")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    page.text_of("table.sources tbody", lambda text: text == "No data sources yet.")
    assert api.get("/data-sources", token)["total"] == 0


def test_a_wrong_password_is_refused_on_the_page(page):
    page.open("#/search")
    page.type_into("input[name=email]", unique_email())
    page.type_into("input[name=password]", "not the password")
    page.find("#sign-in").click()
    assert page.text_of("form.auth .error", bool).startswith("invalid email or password")
    assert page.token() is None
    assert not page.driver.find_element(By.ID, "nav").is_displayed()


def test_a_token_the_gateway_refuses_returns_to_the_sign_in_form(page):
    page.driver.execute_script("sessionStorage.setItem('kushim.token', 'not-a-token')")
    page.driver.refresh()
    page.find("form.auth #sign-in")
    assert page.token() is None
    assert not page.driver.find_element(By.ID, "nav").is_displayed()


def test_the_footer_shows_the_readiness_state(page, api):
    status, ready = api.call("GET", "/health/ready")
    footer = page.text_of("#health", lambda text: text.startswith("Service:"))
    assert footer.startswith(f"Service: {ready['status']}")
    assert page.find("#health").get_attribute("data-state") == ready["status"]


def test_every_answer_carries_the_strict_headers(api):
    for path in ("/ui/", "/ui/js/main.js", "/health", "/records"):
        headers = api.headers(path)
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers("/ui/vendor/cytoscape.min.js")["Content-Type"].startswith(
        "text/javascript")
