"""A workspace's monthly budget: who sets it, what a valid one is; the spend answers' inputs."""

import json

import pytest

from server.accounts.models import Role, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(make_member, client_for):
    owner, workspace = make_member("owner")
    editor, _ = make_member("editor", Role.EDITOR, workspace)
    viewer, _ = make_member("viewer", Role.VIEWER, workspace)
    outsider, _ = make_member("outsider")
    return {
        "workspace": workspace,
        "url": f"/api/v1/workspaces/{workspace.pk}/",
        **{
            name: client_for(user)
            for name, user in (
                ("owner", owner),
                ("editor", editor),
                ("viewer", viewer),
                ("outsider", outsider),
            )
        },
    }


def stored_budget(team) -> object:
    return Workspace.objects.get(pk=team["workspace"].pk).monthly_budget_usd


def test_owners_set_and_clear_the_budget(team):
    assert team["owner"].get(team["url"]).json()["monthly_budget_usd"] is None
    answer = team["owner"].patch(team["url"], {"monthly_budget_usd": 12.5}, format="json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["monthly_budget_usd"] == 12.5
    assert str(stored_budget(team)) == "12.5000"
    assert team["viewer"].get(team["url"]).json()["monthly_budget_usd"] == 12.5
    for value, stored in ((0, "0.0000"), (0.0001, "0.0001"), (1_000_000_000, "1000000000.0000")):
        answer = team["owner"].patch(team["url"], {"monthly_budget_usd": value}, format="json")
        assert answer.status_code == 200, (value, answer.json())
        assert str(stored_budget(team)) == stored
    cleared = team["owner"].patch(team["url"], {"monthly_budget_usd": None}, format="json")
    assert cleared.json()["monthly_budget_usd"] is None
    assert stored_budget(team) is None


def test_a_new_workspace_may_have_a_budget(team):
    answer = team["owner"].post(
        "/api/v1/workspaces/", {"name": "Budgeted", "monthly_budget_usd": 5}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["monthly_budget_usd"] == 5.0
    assert Workspace.objects.get(name="Budgeted").monthly_budget_usd == 5


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "Infinity",
        -1,
        -0.0001,
        10**400,
        1_000_000_000.0001,
        0.00001,
        "\u0661\u0662",  # Arabic-Indic digits
        "\uff11\uff12",  # fullwidth digits
        "1_000",
        " 7",
        "",
        True,
        [],
        {},
    ],
)
def test_bad_budgets_are_refused_and_nothing_changes(team, value):
    team["owner"].patch(team["url"], {"monthly_budget_usd": 3}, format="json")
    answer = team["owner"].patch(team["url"], {"monthly_budget_usd": value}, format="json")
    assert answer.status_code == 400, value
    body = answer.json()
    assert body["code"] == "invalid"
    assert "monthly_budget_usd" in body["fields"]
    assert stored_budget(team) == 3


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_json_numbers_are_refused(team, literal):
    answer = team["owner"].generic(
        "PATCH",
        team["url"],
        f'{{"monthly_budget_usd": {literal}}}',
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert stored_budget(team) is None


def test_only_owners_set_it_and_outsiders_do_not_see_it(team):
    for role in ("editor", "viewer"):
        answer = team[role].patch(team["url"], {"monthly_budget_usd": 1}, format="json")
        assert answer.status_code == 403, role
    answer = team["outsider"].patch(team["url"], {"monthly_budget_usd": 1}, format="json")
    assert answer.status_code == 404
    assert stored_budget(team) is None


def test_spend_of_a_workspace_without_runs(team):
    team["owner"].patch(team["url"], {"monthly_budget_usd": 2.5}, format="json")
    answer = team["viewer"].get(f"{team['url']}spend/", {"month": "2026-02"})
    assert answer.status_code == 200, answer.json()
    zero = {"runs": 0, "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost_usd": 0}
    assert answer.json() == {
        "workspace": str(team["workspace"].pk),
        "month": "2026-02",
        "spend": zero,
        "all_time": zero,
        "monthly_budget_usd": 2.5,
        "remaining_usd": 2.5,
        "workflows": [],
    }


@pytest.mark.parametrize(
    "month",
    [
        "2026-13",
        "2026-00",
        "2026-1",
        "26-01",
        "1969-12",
        "9999-12",
        "\u0662\u0660\u0662\u0666-01",
        "2026-01-01",
        "2026/01",
        "last",
    ],
)
def test_a_bad_month_is_a_400(team, month):
    workflow = team["owner"].post("/api/v1/workflows/", {"name": "w"}, format="json").json()
    for url in (f"{team['url']}spend/", f"/api/v1/workflows/{workflow['id']}/spend/"):
        answer = team["owner"].get(url, {"month": month})
        assert answer.status_code == 400, (url, month)
        assert answer.json()["code"] == "invalid"
        assert "month" in answer.json()["fields"]


def test_another_workspace_spend_is_a_404(team):
    workflow = team["owner"].post("/api/v1/workflows/", {"name": "w"}, format="json").json()
    assert team["outsider"].get(f"{team['url']}spend/").status_code == 404
    assert team["outsider"].get(f"/api/v1/workflows/{workflow['id']}/spend/").status_code == 404


def test_the_answer_is_plain_json(team):
    answer = team["owner"].get(f"{team['url']}spend/")
    body = json.loads(answer.content)
    assert body["monthly_budget_usd"] is None
    assert body["remaining_usd"] is None
