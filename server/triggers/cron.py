"""Five-field cron in an IANA timezone, as UTC instants (pure: no Django).

croniter walks the schedule in wall-clock time; the wall times are then placed
on the timeline with zoneinfo, which is where daylight saving matters:

* A wall time the clocks skip (02:30 on a spring-forward night in Berlin) is
  read with the offset from before the change, so it fires as late as the gap
  is long (03:30 CEST), as java.time and PEP 495 read such times. Two slots that
  land on one instant (02:30 shifted, and 03:30) fire once.
* A wall time the clocks repeat (02:30 on a fall-back night) fires at its first
  occurrence only, unless the schedule runs every hour of the day: then it fires
  at both, so `*/5 * * * *` keeps its pace through the repeated hour.

Shifted slots can come out of order, so instants wait in a heap until no later
wall time can produce an earlier instant.
"""

import heapq
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from croniter import CroniterBadDateError, croniter

MAX_CRON_CHARS = 120
# No offset change in today's tz database exceeds two hours, so an instant this
# far behind the wall time being read can no longer be overtaken.
_SETTLE = timedelta(hours=3)
# How far back `latest_due` looks first: most schedules have a slot within the first.
_LOOK_BACK = (timedelta(hours=1), timedelta(days=2), timedelta(days=40), timedelta(days=400))
_FIELD = re.compile(r"[0-9A-Za-z*/,\-?#LW]+")


class CronError(ValueError):
    """A cron expression or timezone that cannot be used, with a message for people."""


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    # Checked against the list first: ZoneInfo() would also try to read any path it is given.
    if name not in _zone_names():
        raise CronError(f"{name[:64]!r} is not an IANA timezone (such as Europe/Berlin).")
    return ZoneInfo(name)


def check_cron(expression: str) -> None:
    fields = expression.split()
    if len(expression) > MAX_CRON_CHARS:
        raise CronError(f"A cron expression has at most {MAX_CRON_CHARS} characters.")
    if len(fields) != 5 or not all(_FIELD.fullmatch(field) for field in fields):
        raise CronError(
            "A cron expression has five fields: minute hour day-of-month month day-of-week "
            "(such as '*/15 9-17 * * 1-5')."
        )
    if not croniter.is_valid(expression):
        raise CronError(f"{expression!r} is not a valid cron expression.")


def _every_hour(expression: str) -> bool:
    hours = croniter(expression).expanded[1]
    return hours == ["*"] or len(hours) == 24


def _instants(wall: datetime, tz: ZoneInfo, both_folds: bool) -> list[datetime]:
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    repeated = second != first and first.astimezone(tz).replace(tzinfo=None) == wall
    return [first, second] if repeated and both_folds else [first]


def fire_times(expression: str, timezone: str, after: datetime) -> Iterator[datetime]:
    """The UTC instants strictly after ``after`` (aware) at which the schedule fires, in order.

    Ends if the expression can never match again (31 February).
    """
    check_cron(expression)
    tz = zone(timezone)
    both_folds = _every_hour(expression)
    # Start early in wall time: a shifted slot from before `after` may land after it.
    start = (after.astimezone(tz) - _SETTLE).replace(tzinfo=None)
    walls = croniter(expression, start)
    pending: list[datetime] = []
    last: datetime | None = None
    while True:
        try:
            wall = walls.get_next(datetime)
        except CroniterBadDateError:
            wall = None
        if wall is not None:
            for instant in _instants(wall, tz, both_folds):
                heapq.heappush(pending, instant)
            settled = wall.replace(tzinfo=tz).astimezone(UTC) - _SETTLE
        while pending and (wall is None or pending[0] <= settled):
            instant = heapq.heappop(pending)
            if instant > after and instant != last:
                last = instant
                yield instant
        if wall is None:
            return


def next_fire_time(expression: str, timezone: str, after: datetime) -> datetime | None:
    return next(fire_times(expression, timezone, after), None)


def latest_due(expression: str, timezone: str, since: datetime, now: datetime) -> datetime | None:
    """The last fire time in (since, now], or None.

    Looks back a little first, then further: walking an every-minute schedule
    from a beat that was down for a month would take a while.
    """
    for back in (*_LOOK_BACK, now - since):
        start = max(since, now - back)
        latest = None
        for instant in fire_times(expression, timezone, start):
            if instant > now:
                break
            latest = instant
        if latest is not None or start == since:
            return latest
    return None
