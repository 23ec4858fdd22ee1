import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import server.accounts.models


def creators_from_first_owners(apps, schema_editor):
    """Existing workspaces count against the quota of their earliest owner."""
    Workspace = apps.get_model("accounts", "Workspace")
    Membership = apps.get_model("accounts", "Membership")
    for workspace in Workspace.objects.filter(created_by__isnull=True).iterator():
        first_owner = (
            Membership.objects.filter(workspace=workspace, role="owner")
            .order_by("created_at", "pk")
            .values_list("user_id", flat=True)
            .first()
        )
        if first_owner is not None:
            Workspace.objects.filter(pk=workspace.pk).update(created_by_id=first_owner)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Existing tokens keep every scope and expire one default lifetime from now.
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(default=server.accounts.models.all_scopes),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(default=server.accounts.models.default_token_expiry),
        ),
        migrations.AddField(
            model_name="workspace",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="created_workspaces",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(creators_from_first_owners, migrations.RunPython.noop),
    ]
