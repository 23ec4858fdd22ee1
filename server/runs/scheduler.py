"""Beat's scheduler: django-celery-beat's, sending only while this beat is the leader.

Every beat would otherwise send every scheduled task, so a second replica
doubled the reaper and the retention job, and the one replica of old was a
single point of failure for recovery. Now any number may run: each tick, a
beat claims or renews the ``beat`` lease (server/runs/leadership.py); the
holder sends, the others wait and try again every third of the TTL. A leader
that dies stops renewing, and a waiting beat takes over within about one TTL
and a third (``AGENTLOOM_LEADER_LEASE_TTL_S``). Renewal happens in the beat
loop itself, so a leader whose loop hangs loses the lease as a dead one does.
"""

import logging
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from server.runs.leadership import BEAT, Lease

logger = logging.getLogger(__name__)


class LeaderScheduler(DatabaseScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lease = Lease(BEAT)
        self.leading: bool | None = None  # unknown until the first tick
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        leading = self.lease.claim()
        if leading != self.leading:
            self.leading = leading
            if leading:
                logger.info("beat: leading as %s", self.lease.holder)
            else:
                logger.info("beat: waiting, the lease is held by %s", self.lease.current_holder())
        renew_in = self.lease.ttl_s / 3
        if not leading:
            return renew_in
        return float(min(super().tick(*args, **kwargs), renew_in))

    def close(self) -> None:
        super().close()
        if self.leading:
            self.lease.release()
