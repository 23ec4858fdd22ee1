"""Who may see and change what: workspaces, memberships with roles, API tokens."""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


# Roles allowed to change a workspace's objects (workflows, runs, templates).
WRITE_ROLES = frozenset({Role.OWNER, Role.EDITOR})


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    max_running_runs = models.PositiveIntegerField(
        default=20, help_text="Runs beyond this many running at once wait in the queued state."
    )
    # Outbound requests of this workspace go only to these domains and their
    # subdomains (docs/egress.md); empty: any public host.
    allowed_domains = models.JSONField(default=list, blank=True)
    # The most this workspace's runs may cost in a calendar month (UTC); null: no limit.
    # Past it new runs are refused and running ones fail (server/runs/spend.py).
    monthly_budget_usd = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # Who created it, for the per-user workspace quota: ownership can be given
    # away or given to someone, creation cannot.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="created_workspaces",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class WorkspaceSpend(models.Model):
    """What a workspace's finished runs used, per calendar month (UTC) of their creation.

    Added to when a run ends (server/runs/spend.py), so a budget check reads one
    row instead of summing the month's runs, and deleting runs or workflows does
    not give budget back.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="spend")
    month = models.DateField(help_text="The first day of the month.")
    runs = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "month"], name="unique_workspace_month"),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} {self.month:%Y-%m}"


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="unique_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


def hash_token_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


class Scope(models.TextChoices):
    """What a token may do: ``read`` any GET; ``run`` start, cancel, resume runs;
    ``write`` every other change; ``admin`` tokens, memberships and workspace settings."""

    READ = "read"
    RUN = "run"
    WRITE = "write"
    ADMIN = "admin"


def all_scopes() -> list[str]:
    return list(Scope.values)


def default_token_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.AGENTLOOM_TOKENS["default_ttl_days"])


class ApiToken(models.Model):
    """A key for scripts. Only its hash is stored; the key is shown once."""

    KEY_PREFIX = "alk_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=200)
    prefix = models.CharField(
        max_length=16, help_text="The key's first characters, to recognise it."
    )
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=all_scopes)
    expires_at = models.DateTimeField(default=default_token_expiry)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def new_key(cls) -> str:
        return cls.KEY_PREFIX + secrets.token_urlsafe(32)

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()


def default_invitation_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.AGENTLOOM_INVITATIONS["ttl_days"])


class Invitation(models.Model):
    """An offer of a role in a workspace, taken up only by the invited person accepting it.

    The link carries a random token of which only the hash is stored, so the
    link exists only in the creation answer (and the email, when one is sent).
    It is invited by email or by username; whoever accepts must be that person.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email="") | ~models.Q(username=""),
                name="invitation_names_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email or self.username} to {self.workspace} as {self.role}"

    @property
    def invitee(self) -> str:
        return self.email or self.username
