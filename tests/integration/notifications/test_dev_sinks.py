"""The SMS sink answers as Twilio does (201 message resource; 401 code 20003 for bad
credentials; 400 code 21211 for a To that is not E.164) and lists what it caught."""

from __future__ import annotations

import httpx

from app.entrypoints.dev_sinks import CaughtMessages, create_sms_sink

SID, TOKEN = "AC" + "1" * 32, "token"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


async def test_the_sms_sink_speaks_twilio():
    caught = CaughtMessages()
    transport = httpx.ASGITransport(app=create_sms_sink(caught, SID, TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://sink") as client:
        created = await client.post(PATH, auth=(SID, TOKEN), data={"To": "+14155550100", "From": "+15005550006",
                                                                   "Body": "hello"})
        assert created.status_code == 201
        body = created.json()
        assert body["sid"].startswith("SM") and len(body["sid"]) == 34 and body["status"] == "queued"
        wrong = await client.post(PATH, auth=(SID, "nope"), data={"To": "+14155550100", "Body": "x"})
        assert wrong.status_code == 401 and wrong.json()["code"] == 20003
        invalid = await client.post(PATH, auth=(SID, TOKEN), data={"To": "5550100", "Body": "x"})
        assert invalid.status_code == 400 and invalid.json()["code"] == 21211
        assert set(invalid.json()) == {"code", "message", "more_info", "status"}
        listed = (await client.get("/messages", params={"channel": "sms"})).json()
    assert [(m["to"], m["text"], m["sid"]) for m in listed] == [(["+14155550100"], "hello", body["sid"])]
