"""The load's records and how it judges a 503."""

import aiohttp

from chaos.load import Load, record_for


def test_records_name_each_others_ticket():
    ticket, pull, message = (record_for(0, i) for i in range(3))
    assert ticket["externalId"] == "PROJ-1" and ticket["metadata"]["ticketId"] == "PROJ-1"
    assert "PROJ-1" in pull["title"] and pull["metadata"]["ticketId"] == "PROJ-1"
    assert "PROJ-1" in message["title"]
    assert record_for(0, 3)["externalId"] == "PROJ-2"


def test_every_record_of_a_worker_is_a_new_identity():
    records = [record_for(0, i) for i in range(30)]
    keys = {(r["sourcePlatform"], r["externalId"]) for r in records}
    assert len(keys) == 30


def test_a_503_is_allowed_only_in_an_outage_and_its_grace():
    load = Load("http://127.0.0.1:1", grace_s=1000.0)
    assert not load._allows_503()
    load.begin_outage("postgres")
    assert load._allows_503()
    load.end_outage()
    assert load._allows_503()  # within the grace period
    load.grace_s = 0.0
    assert not load._allows_503()


def test_recovery_runs_to_the_first_acknowledgement_or_the_last_503():
    load = Load("http://127.0.0.1:1")
    load.acked_at = [1.0, 12.0, 13.0]
    assert load.recovered_after(10.0) == 2.0
    load.last_unavailable = 14.5
    assert load.recovered_after(10.0) == 4.5
    assert load.recovered_after(20.0) is None


async def test_the_slowest_answer_is_kept_per_route():
    class Refusing:
        def request(self, method, url, **kwargs):
            raise aiohttp.ClientConnectionError("refused")

    load = Load("http://127.0.0.1:1")
    path = "/records/0b7a6c1e-8d2f-4c39-9a51-2f0e6d4b8c11/context?depth=2"
    assert await load._call(Refusing(), "GET", path, (200,)) is None
    assert list(load.slowest) == ["GET /records/{id}/context"]
    assert load.statuses["error"] == 1 and load.failures
