"""Cron slots as UTC instants, across both 2027 daylight-saving changes (unit level)."""

from datetime import UTC, datetime
from itertools import islice, pairwise

import pytest

from server.triggers.cron import CronError, check_cron, fire_times, latest_due, zone

BERLIN = "Europe/Berlin"


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _times(cron: str, tz: str, after: datetime, n: int) -> list[datetime]:
    return list(islice(fire_times(cron, tz, after), n))


def test_daily_slot_in_berlin_keeps_local_time_across_both_changes():
    # Clocks go forward on 2027-03-28 (CET +1 -> CEST +2) and back on 2027-10-31.
    assert _times("0 9 * * *", BERLIN, _utc(2027, 3, 26), 4) == [
        _utc(2027, 3, 26, 8),
        _utc(2027, 3, 27, 8),
        _utc(2027, 3, 28, 7),
        _utc(2027, 3, 29, 7),
    ]
    assert _times("0 9 * * *", BERLIN, _utc(2027, 10, 30), 3) == [
        _utc(2027, 10, 30, 7),
        _utc(2027, 10, 31, 8),
        _utc(2027, 11, 1, 8),
    ]


def test_a_slot_in_the_skipped_hour_fires_once_shifted_by_the_gap():
    # 02:30 does not exist on 2027-03-28: it fires at 03:30 CEST (01:30Z), once.
    assert _times("30 2 * * *", BERLIN, _utc(2027, 3, 27, 12), 2) == [
        _utc(2027, 3, 28, 1, 30),
        _utc(2027, 3, 29, 0, 30),
    ]


def test_hourly_schedule_fires_once_per_real_hour_through_the_skipped_hour():
    times = _times("30 * * * *", BERLIN, _utc(2027, 3, 27, 23), 4)
    assert times == [
        _utc(2027, 3, 27, 23, 30),
        _utc(2027, 3, 28, 0, 30),  # 01:30 CET
        _utc(2027, 3, 28, 1, 30),  # 03:30 CEST (02:30 shifted onto it: one slot)
        _utc(2027, 3, 28, 2, 30),
    ]


def test_a_slot_in_the_repeated_hour_fires_once_for_a_daily_schedule():
    # 02:30 happens twice on 2027-10-31 (00:30Z in CEST, 01:30Z in CET): the first only.
    assert _times("30 2 * * *", BERLIN, _utc(2027, 10, 30, 12), 2) == [
        _utc(2027, 10, 31, 0, 30),
        _utc(2027, 11, 1, 1, 30),
    ]


def test_an_every_hour_schedule_keeps_its_pace_through_the_repeated_hour():
    times = _times("*/30 * * * *", BERLIN, _utc(2027, 10, 30, 23, 45), 8)
    assert times == [
        _utc(2027, 10, 31, 0, 0),  # 02:00 CEST
        _utc(2027, 10, 31, 0, 30),  # 02:30 CEST
        _utc(2027, 10, 31, 1, 0),  # 02:00 CET
        _utc(2027, 10, 31, 1, 30),  # 02:30 CET
        _utc(2027, 10, 31, 2, 0),
        _utc(2027, 10, 31, 2, 30),
        _utc(2027, 10, 31, 3, 0),
        _utc(2027, 10, 31, 3, 30),
    ]


def test_fire_times_are_strictly_after_the_start_and_increasing():
    times = _times("*/7 * * * *", BERLIN, _utc(2027, 3, 28, 0, 0), 40)
    assert times[0] > _utc(2027, 3, 28)
    assert all(a < b for a, b in pairwise(times))


def test_an_expression_that_never_matches_gives_no_times():
    assert _times("0 0 31 2 *", "UTC", _utc(2027, 1, 1), 3) == []


def test_latest_due_finds_the_last_slot_only():
    since, now = _utc(2027, 1, 1), _utc(2027, 6, 1, 12, 0, 30)
    assert latest_due("* * * * *", "UTC", since, now) == _utc(2027, 6, 1, 12, 0)
    assert latest_due("0 0 1 1 *", "UTC", _utc(2020, 6, 1), now) == _utc(2027, 1, 1)
    assert latest_due("0 0 1 1 *", "UTC", _utc(2027, 1, 1), now) is None


@pytest.mark.parametrize(
    "cron",
    [
        "",
        "* * * *",
        "0 * * * * *",  # six fields: seconds are not ours
        "@daily",
        "\u0661 * * * *",  # Arabic-Indic one
        "61 * * * *",
        "* * * * *\x00",
        "*/0 * * * *",
        "1" * 200,
    ],
)
def test_bad_cron_expressions_are_refused(cron):
    with pytest.raises(CronError):
        check_cron(cron)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "UTC\x00", "x" * 500])
def test_unknown_timezones_are_refused(name):
    with pytest.raises(CronError):
        zone(name)
