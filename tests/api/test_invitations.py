"""Invitations (SPEC §14): owners invite, only the invited person's acceptance makes a member."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from server.accounts.models import Invitation, Membership, Role, hash_token_key
from server.accounts.services import MAX_PENDING_INVITATIONS, create_token

pytestmark = pytest.mark.django_db


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def team(make_member):
    owner, workspace = make_member("owner")
    editor, _ = make_member("editor", Role.EDITOR, workspace)
    outsider, other = make_member("outsider")
    invitee = get_user_model().objects.create_user(
        username="bea", email="Bea@Example.com", password="pw-bea"
    )
    return {
        "owner": owner,
        "workspace": workspace,
        "editor": editor,
        "outsider": outsider,
        "other": other,
        "invitee": invitee,
    }


def invite(client, workspace, body):
    url = f"/api/v1/workspaces/{workspace.pk}/invitations/"
    if isinstance(body, str):  # raw JSON, for what the test client cannot encode
        return client.post(url, body, content_type="application/json")
    return client.post(url, body, format="json")


def test_an_invited_user_accepts_and_gets_the_role(team):
    created = invite(
        session(team["owner"]), team["workspace"], {"username": "bea", "role": "editor"}
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    token = body["token"]
    assert body["url"].endswith(f"/invitations/{token}")
    assert body["emailed"] is False
    stored = Invitation.objects.get(pk=body["id"])
    assert stored.token_hash == hash_token_key(token)
    assert token not in stored.token_hash
    # Nothing changed yet: an invitation is not a membership.
    assert not Membership.objects.filter(user=team["invitee"]).exists()

    bea = session(team["invitee"])
    preview = bea.get(f"/api/v1/invitations/{token}/")
    assert preview.status_code == 200
    assert preview.json()["workspace_name"] == team["workspace"].name
    assert preview.json()["role"] == "editor"
    accepted = bea.post(f"/api/v1/invitations/{token}/accept/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json() == {
        "id": str(team["workspace"].pk),
        "name": team["workspace"].name,
        "role": "editor",
    }
    me = bea.get("/api/v1/me/").json()
    assert [(w["id"], w["role"]) for w in me["workspaces"]] == [
        (str(team["workspace"].pk), "editor")
    ]
    listed = session(team["owner"]).get(f"/api/v1/workspaces/{team['workspace'].pk}/invitations/")
    assert listed.json() == []


def test_a_used_link_is_gone(team):
    token = invite(session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"})
    token = token.json()["token"]
    bea = session(team["invitee"])
    assert bea.post(f"/api/v1/invitations/{token}/accept/").status_code == 200
    again = bea.post(f"/api/v1/invitations/{token}/accept/")
    assert again.status_code == 410
    assert again.json()["code"] == "invitation_used"
    assert bea.get(f"/api/v1/invitations/{token}/").status_code == 410


def test_an_expired_link_is_gone(team):
    body = invite(session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"})
    body = body.json()
    Invitation.objects.filter(pk=body["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = session(team["invitee"]).post(f"/api/v1/invitations/{body['token']}/accept/")
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_expired"
    assert not Membership.objects.filter(user=team["invitee"]).exists()


def test_the_link_lives_seven_days(team):
    body = invite(session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"})
    expires = Invitation.objects.get(pk=body.json()["id"]).expires_at
    assert abs((expires - timezone.now() - timedelta(days=7)).total_seconds()) < 60


def test_a_revoked_link_is_gone_and_leaves_the_list(team):
    owner = session(team["owner"])
    base = f"/api/v1/workspaces/{team['workspace'].pk}/invitations/"
    body = invite(owner, team["workspace"], {"email": "bea@example.com", "role": "viewer"}).json()
    assert [i["id"] for i in owner.get(base).json()] == [body["id"]]
    assert owner.delete(f"{base}{body['id']}/").status_code == 204
    assert owner.get(base).json() == []
    assert owner.delete(f"{base}{body['id']}/").status_code == 404
    response = session(team["invitee"]).post(f"/api/v1/invitations/{body['token']}/accept/")
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_revoked"


def test_an_unknown_link_is_404(team):
    bea = session(team["invitee"])
    for token in ["x" * 43, "short", "é" * 43, "a" * 5000]:
        response = bea.post(f"/api/v1/invitations/{token}/accept/")
        assert response.status_code == 404, token
        assert response.json()["code"] == "not_found"
    assert bea.get("/api/v1/invitations/%00abc/").status_code == 404


def test_only_the_invited_person_can_accept(team):
    body = invite(
        session(team["owner"]), team["workspace"], {"email": "bea@example.com", "role": "editor"}
    )
    token = body.json()["token"]
    stranger = session(team["outsider"])
    refused = stranger.post(f"/api/v1/invitations/{token}/accept/")
    assert refused.status_code == 403
    assert not Membership.objects.filter(
        user=team["outsider"], workspace=team["workspace"]
    ).exists()
    # The address matches whatever its case; the link still works after the refusal.
    assert session(team["invitee"]).post(f"/api/v1/invitations/{token}/accept/").status_code == 200


def test_accepting_needs_a_signed_in_user(team):
    token = invite(session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"})
    response = APIClient().post(f"/api/v1/invitations/{token.json()['token']}/accept/")
    assert response.status_code == 401


def test_only_owners_invite_list_and_revoke(team):
    base = f"/api/v1/workspaces/{team['workspace'].pk}/invitations/"
    editor = session(team["editor"])
    assert (
        invite(editor, team["workspace"], {"username": "bea", "role": "viewer"}).status_code == 403
    )
    assert editor.get(base).status_code == 403
    body = invite(session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"})
    assert editor.delete(f"{base}{body.json()['id']}/").status_code == 403
    # Another workspace's ids do not exist for an outsider.
    outsider = session(team["outsider"])
    assert (
        invite(outsider, team["workspace"], {"username": "bea", "role": "owner"}).status_code == 404
    )
    assert outsider.get(base).status_code == 404
    assert outsider.delete(f"{base}{body.json()['id']}/").status_code == 404
    # An owner of another workspace cannot revoke this one's invitation through their own.
    foreign = f"/api/v1/workspaces/{team['other'].pk}/invitations/{body.json()['id']}/"
    assert outsider.delete(foreign).status_code == 404
    assert Invitation.objects.get(pk=body.json()["id"]).revoked_at is None


def test_members_are_not_added_directly(team):
    response = session(team["owner"]).post(
        f"/api/v1/workspaces/{team['workspace'].pk}/members/",
        {"username": "bea", "role": "owner"},
        format="json",
    )
    assert response.status_code == 405
    assert not Membership.objects.filter(user=team["invitee"]).exists()


def test_inviting_a_member_is_a_conflict(team):
    response = invite(
        session(team["owner"]), team["workspace"], {"username": "editor", "role": "owner"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "already_member"


def test_a_member_accepting_again_is_a_conflict(team):
    Membership.objects.create(workspace=team["workspace"], user=team["invitee"], role=Role.VIEWER)
    invitation = Invitation.objects.create(
        workspace=team["workspace"],
        username="bea",
        role=Role.OWNER,
        token_hash=hash_token_key("t" * 43),
    )
    response = session(team["invitee"]).post(f"/api/v1/invitations/{'t' * 43}/accept/")
    assert response.status_code == 409
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert Membership.objects.get(user=team["invitee"]).role == Role.VIEWER


@pytest.mark.parametrize(
    "body",
    [
        {"role": "viewer"},
        {"email": "bea@example.com", "username": "bea", "role": "viewer"},
        {"username": "nobody-has-this", "role": "viewer"},
        {"email": "not-an-address", "role": "viewer"},
        {"email": "a@b.c" + "x" * 1_000_000, "role": "viewer"},
        {"username": "bea", "role": "admin"},
        {"username": "bea", "role": None},
        {"username": "bea\x00", "role": "viewer"},
        {"username": ["bea"], "role": "viewer"},
        {"username": {"a": {"b": {"c": [[[[1]]]]}}}, "role": "viewer"},
        '{"username": "bea", "role": NaN}',
        '{"username": "bea", "role": 1' + "0" * 400 + "}",
        '{"username": "bea", "role": "viewer"',
        "[" * 100_000 + "]" * 100_000,
        {"username": "bea", "role": "٣"},
    ],
)
def test_hostile_invitations_are_400_and_write_nothing(team, body):
    response = invite(session(team["owner"]), team["workspace"], body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "malformed_json", "unsupported_character"}
    assert not Invitation.objects.exists()


def test_pending_invitations_are_capped(team):
    Invitation.objects.bulk_create(
        Invitation(
            workspace=team["workspace"],
            email=f"p{i}@example.com",
            role=Role.VIEWER,
            token_hash=hash_token_key(f"p{i}"),
        )
        for i in range(MAX_PENDING_INVITATIONS)
    )
    response = invite(
        session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "too_many_invitations"


def test_the_link_is_emailed_when_email_is_configured(team, settings):
    settings.AGENTLOOM_INVITATIONS = {**settings.AGENTLOOM_INVITATIONS, "send_email": True}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    body = invite(
        session(team["owner"]), team["workspace"], {"email": "bea@example.com", "role": "viewer"}
    )
    assert body.status_code == 201
    assert body.json()["emailed"] is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["bea@example.com"]
    assert body.json()["url"] in message.body
    assert team["workspace"].name in message.subject


def test_no_email_when_not_configured_or_invited_by_username(team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    owner = session(team["owner"])
    invite(owner, team["workspace"], {"email": "bea@example.com", "role": "viewer"})
    settings.AGENTLOOM_INVITATIONS = {**settings.AGENTLOOM_INVITATIONS, "send_email": True}
    assert (
        invite(owner, team["workspace"], {"username": "bea", "role": "viewer"}).json()["emailed"]
        is False
    )
    assert mail.outbox == []


def test_a_failing_mail_server_keeps_the_invitation(team, settings):
    settings.AGENTLOOM_INVITATIONS = {**settings.AGENTLOOM_INVITATIONS, "send_email": True}
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens, the connection is refused
    settings.EMAIL_TIMEOUT = 2
    response = invite(
        session(team["owner"]), team["workspace"], {"email": "bea@example.com", "role": "viewer"}
    )
    assert response.status_code == 201
    assert response.json()["emailed"] is False
    assert Invitation.objects.filter(pk=response.json()["id"]).exists()


def test_the_token_is_never_listed(team):
    owner = session(team["owner"])
    body = invite(owner, team["workspace"], {"username": "bea", "role": "viewer"}).json()
    listed = owner.get(f"/api/v1/workspaces/{team['workspace'].pk}/invitations/")
    assert body["token"] not in listed.content.decode()
    assert "token" not in listed.json()[0]


def test_accepting_needs_the_admin_scope_with_a_token(team):
    body = invite(session(team["owner"]), team["workspace"], {"username": "bea", "role": "viewer"})
    _, key = create_token(user=team["invitee"], name="w", scopes=["write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(f"/api/v1/invitations/{body.json()['token']}/accept/")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_make_one_membership(make_member):
    owner, workspace = make_member("owner")
    get_user_model().objects.create_user(username="bea", password="pw-bea")
    response = invite(session(owner), workspace, {"username": "bea", "role": "editor"})
    token = response.json()["token"]
    bea = get_user_model().objects.get(username="bea")

    def accept() -> int:
        try:
            return session(bea).post(f"/api/v1/invitations/{token}/accept/").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(pool.map(lambda _: accept(), range(4)))
    assert codes == [200, 410, 410, 410]
    assert Membership.objects.filter(user=bea, workspace=workspace).count() == 1
