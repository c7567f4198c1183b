"""The overlap API: a tenant answers another's offer; another server answers a remote offer
through the protocol endpoints, whose messages are refused when replayed or forged."""

from __future__ import annotations

import secrets

from crosspromo.analytics.overlap import Audience, Requester
from crosspromo.analytics.overlap.blinding import Blinder
from crosspromo.services.discover.sessions import decode_token
from tests.web.conftest import World

LIST = "email\n" + "".join(f"C{i}@Example.com\n" for i in range(2, 8))


def test_a_tenant_answers_an_offer_made_to_it(world: World) -> None:
    session = world.overlap_sessions["acme"]
    joined = world.client.post(
        f"/api/v1/overlap/sessions/{session}/join",
        content=LIST,
        headers={**world.auth("beans"), "content-type": "text/csv"},
    )
    assert joined.status_code == 200, joined.text
    body = joined.json()
    # acme's consenting c1..c5 against beans' c2..c7: c2..c5
    assert (body["size_requester"], body["size_responder"], body["intersection"]) == (6, 5, 4)
    assert body["shared"] is None
    seen = world.client.get(f"/api/v1/overlap/sessions/{session}", headers=world.auth("acme"))
    assert seen.json()["status"] == "done"
    assert seen.json()["intersection"] == 4
    assert seen.json()["partner"] == "beans"
    again = world.client.post(
        f"/api/v1/overlap/sessions/{session}/join",
        content=LIST,
        headers={**world.auth("beans"), "content-type": "text/csv"},
    )
    assert again.status_code == 422
    assert again.json()["code"] == "protocol_message_refused"


def test_another_server_answers_through_the_protocol_endpoints(world: World) -> None:
    offer = world.client.post(
        "/api/v1/overlap/offers?hours=1",
        content="email\n" + "".join(f"c{i}@example.com\n" for i in range(6)),
        headers={**world.auth("acme"), "content-type": "text/csv"},
    )
    assert offer.status_code == 201, offer.text
    made = offer.json()
    assert (made["partner"], made["size"], made["not_sharing"], made["rows"]) == (None, 5, 1, 6)
    session, key = made["session"], decode_token(made["token"])
    remote = Requester(session, key, Audience(["c4@example.com", "c9@example.com"]), Blinder())
    base = f"/overlap/v1/sessions/{session}"
    octets = {"content-type": "application/octet-stream"}
    message = remote.request()
    forged = Requester(session, secrets.token_bytes(32), Audience(["c4@example.com"]), Blinder())
    refused = world.client.post(f"{base}/request", content=forged.request(), headers=octets)
    assert refused.status_code == 422
    assert refused.json()["code"] == "protocol_message_refused"
    answer = world.client.post(f"{base}/request", content=message, headers=octets)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/octet-stream"
    replay = world.client.post(f"{base}/request", content=message, headers=octets)
    assert replay.status_code == 422
    assert "replayed" in replay.json()["detail"]
    assert remote.finish(answer.content).intersection == 1
    done = world.client.post(f"{base}/result", content=remote.result_message(), headers=octets)
    assert done.status_code == 204
    listed = world.client.get("/api/v1/overlap/sessions", headers=world.auth("acme")).json()
    mine = next(s for s in listed["items"] if s["session"] == session)
    assert (mine["status"], mine["intersection"], mine["partner"]) == ("done", 1, None)
    unknown = world.client.post(f"/overlap/v1/sessions/{'0' * 32}/request", content=b"x")
    assert unknown.status_code == 404


def test_sharing_is_opt_in_and_revocable(world: World) -> None:
    other = world.auth("other")
    assert world.client.get("/api/v1/overlap/sharing", headers=other).json() == {"level": "hidden"}
    refused = world.client.post(
        "/api/v1/overlap/offers", content=LIST, headers={**other, "content-type": "text/csv"}
    )
    assert refused.status_code == 403
    session = world.overlap_sessions["acme"]
    hidden = world.client.put(
        "/api/v1/overlap/sharing", json={"level": "hidden"}, headers=world.auth("acme")
    )
    assert hidden.json() == {"level": "hidden"}
    seen = world.client.get(f"/api/v1/overlap/sessions/{session}", headers=world.auth("acme"))
    assert seen.json()["status"] == "revoked"
    bad = world.client.put("/api/v1/overlap/sharing", json={"level": "all"}, headers=other)
    assert bad.status_code == 422
