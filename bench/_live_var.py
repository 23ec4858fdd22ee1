import asyncio
from bench.harness import deployment
from bench import live_bench as lb
d = deployment()
from tests.support.processes import start_asgi, start_worker
server, base = start_asgi(workers=2)
ws = [start_worker("control", queues="control", pool="prefork", concurrency=2, loglevel="WARNING"),
      start_worker("agents", queues="agents", pool="threads", concurrency=64, loglevel="WARNING")]
try:
    asyncio.run(lb.fan_out_latency(d, base, sockets=100, load=0))
    asyncio.run(lb.fan_out_latency(d, base, sockets=100, load=20))
finally:
    for p in (server, *ws): p.stop()
