"""The after-commit publisher holds a bounded number of messages per process."""

import asyncio

from server.runs.publisher import _Outbox


def test_a_full_publish_queue_drops_and_counts(settings):
    settings.AGENTLOOM_LIVE = {**settings.AGENTLOOM_LIVE, "publish_queue_messages": 3}
    # A loop that is not running: nothing drains, as when the channel layer hangs.
    loop = asyncio.new_event_loop()
    try:
        outbox = _Outbox(loop)
        for seq in range(1, 11):
            outbox._offer("run.x", {"type": "run.events", "run": "x", "events": [{"seq": seq}]})
        assert outbox.queue.qsize() == 3
        assert outbox.dropped == 7
        kept = [outbox.queue.get_nowait()[1]["events"][0]["seq"] for _ in range(3)]
        assert kept == [1, 2, 3]
    finally:
        loop.close()
