"""Re-encrypt every credential's secret under the first key of AGENTLOOM_ENCRYPTION_KEYS.

Rotation: put the new key first (keep the old one after it), run this, then
drop the old key. Rows are rewritten in small transactions, so the command can
run while the product does; a secret changed meanwhile is already under the new key.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from server.credentials.crypto import SecretUnreadable, reencrypt
from server.credentials.models import Credential

_BATCH = 100


class Command(BaseCommand):
    help = "Re-encrypt every credential secret under the first AGENTLOOM_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(Credential.objects.order_by("pk").values_list("pk", flat=True))
        unreadable: list[str] = []
        for start in range(0, len(ids), _BATCH):
            with transaction.atomic():
                batch = Credential.objects.select_for_update().filter(
                    pk__in=ids[start : start + _BATCH]
                )
                for credential in batch.only("pk", "secret_token"):
                    try:
                        token = reencrypt(credential.secret_token)
                    except SecretUnreadable:
                        unreadable.append(str(credential.pk))
                        continue
                    Credential.objects.filter(pk=credential.pk).update(secret_token=token)
        done = len(ids) - len(unreadable)
        self.stdout.write(f"Re-encrypted {done} credential(s).")
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} credential(s) are under no configured key: "
                + ", ".join(unreadable)
            )
