"""An event made in one server process reaches a subscriber of another (two processes, one database)."""
from __future__ import annotations

import asyncio
import os

import pytest

from tests.builders import PHONE_KEY, TEST_SECRET
from tests.live.common import STORE_EVENTS, Subscriber
from tests.processes import start_serve, stop


@pytest.fixture
def second_server(database_url, settings, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "JWT_SECRET": TEST_SECRET, "PHONE_ENCRYPTION_KEY": PHONE_KEY,
           "WECHAT_API_BASE": settings.wechat_api_base, "WECHAT_APPID": settings.wechat_appid,
           "WECHAT_SECRET": settings.wechat_secret, "PAYMENT_SANDBOX_SECRET": settings.payment_sandbox_secret}
    env.pop("DEBUG", None)
    proc, url = start_serve(env, tmp_path, "--no-worker")
    yield url
    stop(proc)


async def test_an_event_from_one_process_reaches_a_subscriber_of_another(mall, second_server):
    # given a tablet connected to the second server process
    tablet = await Subscriber.connect(second_server, mall.guides["guide-a"][1])
    assert await tablet.acknowledged()
    await tablet.subscribe(STORE_EVENTS, {"s": mall.stores["S1"]})
    await asyncio.sleep(0.3)
    # when a member joins through this process's app
    await mall.member("alice")
    # then the other process's subscriber hears it
    event = (await tablet.next_event())["data"]["storeEvents"]
    assert event["kind"] == "MEMBER_JOINED" and event["member"]["memberNo"]
    await tablet.close()
