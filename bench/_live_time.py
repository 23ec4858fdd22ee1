import asyncio, json, time, statistics, collections
from datetime import datetime
import httpx
from bench.harness import deployment, percentile
from bench import live_bench as lb
from tests.support.ws import connect
d = deployment()
from tests.support.processes import start_asgi, start_worker
server, base = start_asgi(workers=2)
ws = [start_worker("control", queues="control", pool="prefork", concurrency=2, loglevel="WARNING"),
      start_worker("agents", queues="agents", pool="threads", concurrency=64, loglevel="WARNING")]
buckets = collections.defaultdict(list)
async def watch(run_id, t0):
    s = await connect(base, f"/ws/runs/{run_id}/?after=0", token=d.token)
    live = False
    try:
        while True:
            m = json.loads(await s.recv()); now = time.time()
            if m["kind"] == "replayed": live = True
            elif m["kind"] == "event":
                if live:
                    sent = datetime.fromisoformat(m["ts"].replace("Z", "+00:00")).timestamp()
                    buckets[int(sent - t0)].append((now - sent) * 1000)
                if m["type"].startswith("run.") and m["type"] != "run.started" and m["type"] != "run.queued": return
    finally:
        await s.close()
async def main():
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Token {d.token}"}, timeout=60) as c:
        t0 = time.time()
        run_id = await lb._start_run(c, lb._streaming_doc(4, 6000))
        await asyncio.gather(*[watch(run_id, t0) for _ in range(100)])
try:
    asyncio.run(main())
    for k in sorted(buckets):
        v = buckets[k]; print(f"second {k}: n={len(v)} p50 {statistics.median(v):.1f} p99 {percentile(v,99):.1f} max {max(v):.1f}")
finally:
    for p in (server, *ws): p.stop()
