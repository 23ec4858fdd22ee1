import uuid

from django.db import models

from server.accounts.models import Workspace


class Template(models.Model):
    """A workflow document with typed variables, instantiated into new workflows.

    Built-in templates belong to no workspace and are loaded from
    ``builtin/*.json`` by ``manage.py load_templates`` (matched on ``key``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="templates"
    )
    key = models.SlugField(max_length=100, null=True, blank=True, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True)
    variables = models.JSONField(default=list, blank=True)
    document = models.JSONField()
    # Workflows the document's `workflow` and `map` nodes run: built-in
    # templates only ([{"key", "document"}, …]); each is created before the
    # workflow, in order, and `{"$child": key}` in a document names its id.
    children = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def built_in(self) -> bool:
        return self.workspace_id is None
