"""Schedules, webhook triggers and notification settings over the API. A webhook's
secret appears only in the answer that made it (``WebhookCreatedSerializer``,
``SecretSerializer``)."""

from typing import Any

from django.conf import settings
from django.utils.timezone import now
from rest_framework import serializers

from server.core.limits import engine_limits
from server.core.numbers import StrictIntegerField
from server.credentials.models import Credential, Provider
from server.egress import EgressError, EgressRefused, check_destination
from server.triggers.cron import CronError, check_cron, next_fire_time, zone
from server.triggers.models import (
    NotificationDelivery,
    Schedule,
    ScheduleFiring,
    WebhookTrigger,
)
from server.triggers.notifications import EVENTS, MAX_RECIPIENTS, MAX_TARGETS, MAX_URL_LENGTH
from workers.engine.expressions import check_syntax

MAX_PREVIEW = 50


def _valid_cron(value: str) -> None:
    try:
        check_cron(value)
    except CronError as error:
        raise serializers.ValidationError(str(error)) from None


def _valid_zone(value: str) -> None:
    try:
        zone(value)
    except CronError as error:
        raise serializers.ValidationError(str(error)) from None


class _CronFields(serializers.Serializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance = getattr(self, "instance", None)
        cron = attrs.get("cron", getattr(instance, "cron", None))
        tz = attrs.get("timezone", getattr(instance, "timezone", "UTC"))
        if cron is not None and next_fire_time(cron, tz, now()) is None:
            raise serializers.ValidationError({"cron": "This schedule never fires."})
        return attrs


class ScheduleSerializer(_CronFields, serializers.ModelSerializer):
    workflow = serializers.UUIDField(source="workflow_id")
    cron = serializers.CharField(max_length=120, validators=[_valid_cron])
    timezone = serializers.CharField(max_length=64, default="UTC", validators=[_valid_zone])
    inputs = serializers.DictField(required=False, default=dict)

    class Meta:
        model = Schedule
        fields = [
            "id",
            "workspace",
            "workflow",
            "cron",
            "timezone",
            "inputs",
            "enabled",
            "overlap",
            "catch_up",
            "next_fire_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "workspace", "next_fire_at", "created_at", "updated_at"]


class SchedulePatchSerializer(ScheduleSerializer):
    workflow = serializers.UUIDField(source="workflow_id", read_only=True)


class PreviewQuerySerializer(serializers.Serializer):
    n = StrictIntegerField(min_value=1, max_value=MAX_PREVIEW, default=5)


class DraftPreviewQuerySerializer(_CronFields, PreviewQuerySerializer):
    cron = serializers.CharField(max_length=120, validators=[_valid_cron])
    timezone = serializers.CharField(max_length=64, default="UTC", validators=[_valid_zone])


class FireTimeSerializer(serializers.Serializer):
    utc = serializers.DateTimeField()
    local = serializers.CharField(help_text="ISO 8601 in the schedule's timezone, with offset.")


class FiringSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScheduleFiring
        fields = ["slot", "outcome", "run", "error", "created_at"]


def _valid_mapping(value: str) -> None:
    if value:
        problem = check_syntax(value, limits=engine_limits())
        if problem is not None:
            raise serializers.ValidationError(f"Not a valid JSONata expression: {problem}")


class WebhookSerializer(serializers.ModelSerializer):
    workflow = serializers.UUIDField(source="workflow_id")
    inputs = serializers.CharField(
        allow_blank=True, required=False, default="", validators=[_valid_mapping]
    )
    wait_s = StrictIntegerField(min_value=0, required=False, default=10)
    rate_per_minute = StrictIntegerField(
        min_value=1, max_value=100_000, required=False, default=600
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = WebhookTrigger
        fields = [
            "id",
            "workspace",
            "workflow",
            "name",
            "enabled",
            "require_signature",
            "inputs",
            "respond",
            "wait_s",
            "rate_per_minute",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "workspace", "url", "created_at", "updated_at"]

    def get_url(self, trigger: WebhookTrigger) -> str:
        return f"/hooks/{trigger.token}"

    def validate_wait_s(self, value: int) -> int:
        limit = settings.AGENTLOOM_TRIGGERS["max_wait_s"]
        if value > limit:
            raise serializers.ValidationError(f"At most {limit} seconds.")
        return value


class WebhookPatchSerializer(WebhookSerializer):
    workflow = serializers.UUIDField(source="workflow_id", read_only=True)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="Shown once; rotate it to get a new one.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Shown once; the old secret stops working now.")


class NotificationTargetSerializer(serializers.Serializer):
    """One notification target: a webhook (``url``, ``credential``) or an email (``to``)."""

    # Validated against ``context["workspace"]``: the credential must be one of its
    # ``http`` credentials, and the URL pass the outbound guard with its domains.
    _FIELDS = {"webhook": {"url", "credential"}, "email": {"to"}}

    kind = serializers.ChoiceField(choices=["webhook", "email"])
    on = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(EVENTS.values())),
        min_length=1,
        max_length=len(EVENTS),
        help_text="The run events to notify: failed, succeeded, waiting (for an approval).",
    )
    url = serializers.CharField(
        max_length=MAX_URL_LENGTH, required=False, help_text="webhook: where to POST."
    )
    credential = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="webhook: an http credential whose token signs the deliveries.",
    )
    to = serializers.ListField(
        child=serializers.EmailField(max_length=254),
        min_length=1,
        max_length=MAX_RECIPIENTS,
        required=False,
        help_text="email: the recipients.",
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({unknown[0]: "Not a field of a target."})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = attrs["kind"]
        for name in set(self.fields) - {"kind", "on"} - self._FIELDS[kind]:
            if name in attrs:
                raise serializers.ValidationError({name: f"Not a field of an {kind} target."})
        on = list(dict.fromkeys(attrs["on"]))
        if kind == "email":
            if "to" not in attrs:
                raise serializers.ValidationError({"to": "An email target needs recipients."})
            return {"on": on, "kind": kind, "to": list(dict.fromkeys(attrs["to"]))}
        if "url" not in attrs:
            raise serializers.ValidationError({"url": "A webhook target needs a URL."})
        credential = attrs.get("credential")
        # The credential first: it is one query, where the URL's check may wait on DNS.
        target = {"on": on, "kind": kind}
        if credential is not None:
            target["credential"] = self._checked_credential(credential)
        return {**target, "url": self._checked_url(attrs["url"])}

    def _checked_url(self, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise serializers.ValidationError({"url": "An http:// or https:// URL is required."})
        if any(char.isspace() or not char.isprintable() for char in url):
            raise serializers.ValidationError({"url": "A URL has no spaces or control characters."})
        workspace = self.context["workspace"]
        try:
            check_destination(url, workspace.allowed_domains or ())
        except EgressRefused as refused:
            # The guard would refuse every delivery: say so now, not at the first failure.
            message = f"Deliveries would be refused: {refused}"
            raise serializers.ValidationError({"url": message}) from None
        except EgressError:
            pass  # a name that does not resolve now may later; deliveries are retried
        return url

    def _checked_credential(self, credential_id: Any) -> str:
        workspace = self.context["workspace"]
        if not Credential.objects.filter(
            pk=credential_id, workspace_id=workspace.pk, provider=Provider.HTTP
        ).exists():
            raise serializers.ValidationError(
                {"credential": "No http credential of this workspace has this id."}
            )
        return str(credential_id)


class NotificationsSerializer(serializers.Serializer):
    """A workflow's ``settings.notifications`` and the version they belong to."""

    version = StrictIntegerField(min_value=1, help_text="The workflow's current version.")
    notifications = serializers.ListField(
        child=NotificationTargetSerializer(), max_length=MAX_TARGETS
    )


class DeliverySerializer(serializers.ModelSerializer):
    destination = serializers.SerializerMethodField(help_text="The URL, or the recipients.")

    class Meta:
        model = NotificationDelivery
        fields = [
            "id",
            "run",
            "destination",
            "target",
            "event",
            "kind",
            "state",
            "attempts",
            "last_status",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
        ]

    def get_destination(self, delivery: NotificationDelivery) -> str:
        config = delivery.config
        return str(config.get("url") or ", ".join(config.get("to") or ()))
