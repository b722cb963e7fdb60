"""The demo company `make demo` serves shows what Quota is for, whatever the day: targets with attainment and pace,
a sales race, early warnings, tasks due today and a service queue, and a login for every role.

One demo seed per date (through the command, as `make demo` runs it), shared by the module's tests and rolled back
after them. Everything is read back through the product: the KPI engine, the selectors, the pages, the checks.
"""

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import authenticate
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.test import Client

from quota.accounts.models import Role, User
from quota.activities.models import Activity, ActivityKind
from quota.dashboards.periods import PeriodKey, named_period
from quota.dashboards.selectors import sales
from quota.forecasting.history import slip_rate
from quota.forecasting.page import forecast_page
from quota.forecasting.targets import target_progress
from quota.kpi.models import Target, TargetPeriod, TeamTarget, period_bounds
from quota.kpi.periods import add_months, local_midnight
from quota.kpi.targets import Status
from quota.notifications import conf
from quota.notifications.models import Notification, NotificationKind
from quota.notifications.services import due_work_check, early_warnings_check
from quota.seed.clock import Clock
from quota.seed.people import DEMO_LOGINS
from quota.seed.targets import SELLER_KPIS, WIN_RATE
from quota.service.models import Case, CaseStatus

pytestmark = pytest.mark.django_db

# The last day of a year (and quarter), the first of a month (and quarter and year: the product warns about
# nothing of the new periods yet), and a Wednesday in the middle of a month.
DATES = [dt.date(2024, 12, 31), dt.date(2025, 1, 1), dt.date(2025, 5, 14)]
ROOT = Path(settings.BASE_DIR)


@dataclass(frozen=True)
class Demo:
    today: dt.date
    now: dt.datetime  # the end of history: noon today
    output: str

    @property
    def month(self) -> tuple[dt.date, dt.date]:
        return period_bounds(TargetPeriod.MONTH, self.today)


@pytest.fixture(scope="module", params=DATES, ids=str)
def demo(request, django_db_setup, django_db_blocker):
    today = request.param
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed", size="demo", today=today.isoformat(), no_progress=True, stdout=out, stderr=StringIO())
        clock = Clock.ending(today, settings.TIME_ZONE)
        yield Demo(today, dt.datetime.fromtimestamp(clock.as_of, dt.UTC), out.getvalue())
        transaction.set_rollback(True)


def sellers():
    return User.objects.filter(role__in=[Role.REP, Role.MANAGER])


def month_progress(demo, **scope):
    start, end = demo.month
    targets = Target.objects.filter(start=start, end=end, **scope).select_related("metric", "user")
    return target_progress(targets, user=None, now=demo.now)


# ----------------------------------------------------------------------------- targets


def test_every_seller_team_and_company_has_monthly_quarter_and_year_targets(demo):
    this_month = demo.today.replace(day=1)
    teams = set(sellers().values_list("team_id", flat=True))
    assert User.objects.filter(role=Role.REP).count() >= 6 and len(teams) >= 2
    with_rates = {*SELLER_KPIS, WIN_RATE}
    people = [(Q(user=s), set(SELLER_KPIS)) for s in sellers()]
    groups = [(Q(team_id=t, user=None), with_rates) for t in teams] + [(Q(user=None, team=None), with_rates)]
    for scope, kpis in people + groups:
        targets = Target.objects.filter(scope)
        months = Counter(targets.filter(period=TargetPeriod.MONTH).values_list("metric__key", flat=True))
        assert months == dict.fromkeys(kpis, 14), scope
        starts = set(targets.filter(period=TargetPeriod.MONTH).values_list("start", flat=True))
        assert min(starts) == add_months(this_month, -13) and max(starts) == this_month and len(starts) == 14
        for period in (TargetPeriod.QUARTER, TargetPeriod.YEAR):
            current = targets.filter(period=period)
            assert set(current.values_list("metric__key", flat=True)) == kpis
            assert set(current.values_list("start", "end")) == {period_bounds(period, demo.today)}
    assert all(t.metric.is_current for t in Target.objects.select_related("metric")[:50])


def test_team_targets_are_set_directly_for_sales_and_as_the_members_sum_for_the_rest(demo):
    teams = Target.objects.filter(team__isnull=False)
    direct = set(teams.filter(team_target=TeamTarget.DIRECT).values_list("metric__key", flat=True))
    members = set(teams.filter(team_target=TeamTarget.MEMBERS).values_list("metric__key", flat=True))
    assert direct == {"won_revenue", "won_deals", WIN_RATE}
    assert members == {"new_leads", "calls_made", "meetings_held", "emails_sent"}
    for state in target_progress(teams.filter(team_target=TeamTarget.MEMBERS)[:20], user=None, now=demo.now):
        assert state.value is not None and state.value > 0


def test_targets_are_rounded_plans_that_past_months_mostly_came_near(demo):
    """Past months are read as they ended: a plan is no copy of the result, yet most sellers land near it."""
    values = list(Target.objects.exclude(value=None).exclude(metric__key=WIN_RATE).values_list("value", flat=True))
    assert all(v >= 1 and len(str(int(v)).rstrip("0")) <= 2 for v in values)  # 83,000, 140, 8: two significant digits
    rates = Target.objects.filter(metric__key=WIN_RATE).values_list("value", flat=True)
    assert all(0.1 < rate < 0.8 for rate in rates)
    start, _ = period_bounds(TargetPeriod.MONTH, demo.today.replace(day=1) - dt.timedelta(days=1))
    last_month = Target.objects.filter(start__lt=start, period=TargetPeriod.MONTH, user__isnull=False).select_related("metric")
    reached = [s.progress.attainment for s in target_progress(last_month, user=None, now=demo.now)]
    assert len(reached) >= 12 * 6 * sellers().count()
    near = [a for a in reached if 0.75 <= a <= 1.25]
    assert len(near) > len(reached) / 2
    assert any(a < 0.75 for a in reached) and any(a > 1.25 for a in reached)


def test_the_demo_rep_has_targets_with_attainment_and_pace_this_month(demo):
    rep = User.objects.get(username="rep")
    states = month_progress(demo, user=rep)
    assert {s.target.metric.key for s in states} == set(SELLER_KPIS)
    for state in states:
        assert state.progress is not None and state.progress.attainment is not None and state.progress.pace is not None


def test_one_rep_is_clearly_ahead_and_one_clearly_off_pace_this_month(demo):
    states = [s for s in month_progress(demo, metric__key="won_revenue", user__role=Role.REP) if s.progress]
    assert len(states) >= 6
    assert any(s.progress.pace >= 1.3 and s.progress.status in (Status.AHEAD, Status.MET) for s in states)
    assert any(s.progress.pace <= 0.6 and s.progress.status == Status.BEHIND for s in states)


def test_the_directors_sales_race_by_attainment_has_every_seller(demo):
    director = User.objects.get(username="director")
    race = sales.sales_race(user=director, period=named_period(PeriodKey.THIS_MONTH, demo.today), now=demo.now)
    assert len(race.by_attainment) == min(10, sellers().count())
    ranked = [r.attainment for r in race.by_attainment]
    assert ranked == sorted(ranked, reverse=True) and ranked[0] > ranked[-1]


def test_the_rep_and_director_dashboards_show_targets_attainment_and_pace(demo):
    client = Client()
    with time_machine.travel(demo.now, tick=False):
        client.login(username="rep", password="demo")
        page = client.get("/dashboards/my/").content.decode()
        cards = dict(re.findall(r'data-kpi="(\w+)"[^>]*>(.*?)</article>', page, re.S))
        for key in ("won_revenue", "won_deals", "calls_made", "meetings_held"):
            facts = re.sub(r"<[^>]+>", " ", cards[key])
            assert "Target" in facts and " none " not in facts, key
            assert re.search(r"Attainment\s+[\d,.]+\s?%", facts) and re.search(r"Pace\s+[\d,.]+\s?%", facts), (key, facts)
        assert "You have no targets for this period yet" not in page
        client.login(username="director", password="demo")
        page = client.get("/dashboards/sales/").content.decode()
        assert "Nobody has a won revenue target for this period" not in page


# ----------------------------------------------------------------------------- the forecast


def test_the_forecast_reads_a_pipeline_that_slipped_grew_and_shrank_last_quarter(demo):
    """Some of last quarter's commit had its close date moved out of it: this quarter's forecast takes that slip.
    Last quarter's waterfall has every kind of flow, and adds up for each person and in all."""
    director = User.objects.get(username="director")
    last = named_period(PeriodKey.LAST_QUARTER, demo.today)
    [slipped] = slip_rate(user=director, period_start=last.start, period_end=last.end)
    assert slipped.slipped_deals > 0 and 0 < slipped.value_rate < 0.5
    current = forecast_page(user=director, period=named_period(PeriodKey.THIS_QUARTER, demo.today), by="team", now=demo.now)
    assert current.ranges.slip == pytest.approx(slipped.value_rate)
    moved = forecast_page(user=director, period=last, by="person", now=demo.now).waterfall
    total = moved.total
    assert total.new > 0 and total.moved_in > 0 and total.increased > 0
    assert total.decreased < 0 and total.won < 0 and total.lost < 0 and total.moved_out < 0
    for row in [*moved.rows, total]:
        assert row.start + sum(row.flows.values()) == row.end, row.label


# ----------------------------------------------------------------------------- early warnings


def test_the_director_and_the_rep_have_unread_early_warnings(demo):
    for username in ("director", "rep", "manager"):
        unread = Notification.objects.filter(user__username=username, read_at=None)
        assert unread.filter(kind="target_behind").exists(), username
    assert not mail.outbox  # made-up people: the seed does not e-mail its warnings


def test_the_warnings_are_what_the_products_own_check_raises(demo):
    """Checked again at the same moment, the product finds nothing new to say; each warning carries its check's time."""
    last_check = local_midnight(demo.today.replace(day=1)) - dt.timedelta(hours=1)
    assert set(Notification.objects.values_list("created_at", flat=True)) <= {last_check, demo.now}
    assert not any(early_warnings_check(now=demo.now, email=False).values())
    month_elapsed = (demo.today.day - 0.5) / period_bounds(TargetPeriod.MONTH, demo.today)[1].day
    if month_elapsed >= conf.pace_min_elapsed():
        rep = User.objects.get(username="rep")
        assert Notification.objects.filter(user=rep, created_at=demo.now, title__contains="Meetings held").exists()


# ----------------------------------------------------------------------------- the work waiting today


def test_sellers_are_told_of_their_work_due_and_stale_deals_by_the_products_own_check(demo):
    """The hourly check ran at the end of history: the rep has unread notes of tasks due and stale deals, and the
    check run again at the same moment finds nothing new to say."""
    rep_notes = Notification.objects.filter(user__username="rep", read_at=None, created_at=demo.now)
    assert rep_notes.filter(kind=NotificationKind.TASK_DUE).count() >= 3  # the rep's follow-ups due today
    assert rep_notes.filter(kind=NotificationKind.DEALS_STALE).count() == 1
    assert due_work_check(now=demo.now) == {"tasks_due": 0, "follow_ups_due": 0, "deals_stale": 0}


def test_follow_up_tasks_are_due_today_for_the_rep_and_others(demo):
    start = local_midnight(demo.today)
    due = Activity.objects.filter(kind=ActivityKind.TASK, completed_at=None, occurred_at__gte=start)
    due = due.filter(occurred_at__lt=start + dt.timedelta(days=1))
    owners = Counter(due.values_list("owner__username", flat=True))
    assert owners["rep"] >= 3
    assert len(owners) >= sellers().count() - 1
    assert not due.filter(created_at__gt=demo.now).exists()


def test_the_service_desk_has_open_overdue_and_breached_cases(demo):
    waiting = Case.objects.filter(status__in=[CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING])
    overdue = waiting.filter(first_response_at=None, response_due_at__lt=demo.now)
    assert waiting.count() >= 5 and overdue.exists()
    assert not waiting.filter(resolved_at__isnull=False).exists()
    assert not Case.objects.filter(Q(first_response_at__gt=demo.now) | Q(resolved_at__gt=demo.now)).exists()
    answered_late = [c for c in Case.objects.exclude(first_response_at=None) if c.first_response_at > c.response_due_at]
    assert answered_late and len(answered_late) < Case.objects.count() / 3


# ----------------------------------------------------------------------------- logins


def test_every_role_has_a_demo_login_with_the_demo_password(demo):
    assert set(DEMO_LOGINS) == {"admin", *Role.values}
    for username in DEMO_LOGINS:
        user = authenticate(username=username, password="demo")
        assert user is not None and user.role == username, username
    assert all(login in demo.output for login in DEMO_LOGINS)
    makefile = (ROOT / "Makefile").read_text()
    announced = next(line for line in makefile.splitlines() if "Demo logins" in line)
    readme = " ".join((ROOT / "README.md").read_text().split())
    sentence = readme[readme.index("`make demo` prints") :].split(".")[0]
    for login in DEMO_LOGINS:
        assert login in announced and f"`{login}`" in sentence, login
