"""Whether an agent's model can be called: a name litellm knows, usable in the workspace.

The engine reads no credentials and no environment: the server passes what a
workspace can reach as data (`WorkspaceModels`). Without it (a document checked
outside any workspace) only the names are checked.

For one model use, in order:

* a node that names a credential: the credential must be the workspace's
  (`credential_not_found`); one whose provider serves any name (a self-hosted
  OpenAI-compatible server, an Azure deployment) accepts any well-formed model
  name (`invalid_model_name`, see `served_name`); any other must be of the
  model's provider (`credential_mismatch`);
* otherwise a provider that serves any name accepts any well-formed name when
  the workspace can reach it (`openai_compatible/<name>` with such a credential);
* otherwise the name must be one litellm knows (`unknown_model`) and its
  provider usable in the workspace (`model_unavailable`).

The workflow's `default_model` is checked once, where it is set, as a node
without a credential uses it.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workers.engine.document import AGENT_TYPES, blank_to_none
from workers.engine.problems import Problem
from workers.engine.validation.report import Report, Where

# The codes whose answer depends on the workspace (its credentials, the
# operator's keys) rather than on the document alone: a run re-checks them.
MODEL_CODES = frozenset(
    {
        "unknown_model",
        "model_unavailable",
        "credential_not_found",
        "credential_mismatch",
        "invalid_model_name",
    }
)

# What a server behind a credential that serves any name may be asked for: a
# vLLM name (`meta-llama/Llama-3.1-8B-Instruct`), an Ollama tag
# (`qwen2.5-coder:7b`), an Azure deployment. ASCII, no spaces, no empty part;
# the canvas checks typed names with this same pattern (the engine catalog).
SERVED_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:@+-]*(?:/[A-Za-z0-9._:@+-]+)*"
SERVED_NAME_MAX_LENGTH = 200
_SERVED_NAME = re.compile(SERVED_NAME_PATTERN)


@dataclass(frozen=True)
class WorkspaceModels:
    """What one workspace can call, as the server knows it."""

    # Model-name prefixes usable without naming a credential: providers with a
    # credential in the workspace or an operator key, and the built-in `mock`.
    providers: frozenset[str]
    # Every credential of the workspace, by id: its provider.
    credentials: Mapping[str, str] = field(default_factory=dict)
    # Providers whose credentials serve any model name.
    any_name: frozenset[str] = frozenset()
    # Whether a model can call tools (the catalog's `supports_tools`); None: not checked.
    supports_tools: Callable[[str], bool] | None = None


def provider_of(model: str) -> str:
    """The provider a model name starts with (`openai/gpt-4o` → `openai`); "" for none."""
    provider, slash, _ = model.partition("/")
    return provider if slash else ""


def served_name(model: str) -> str:
    """The name a credential serving any name asks its server for: `model` past its first `/`.

    `openai_compatible/meta-llama/Llama-3.1-8B` → `meta-llama/Llama-3.1-8B`;
    a name without a `/` is sent as it is.
    """
    provider, slash, name = model.partition("/")
    return name if slash else provider


def is_served_name(name: str) -> bool:
    return len(name) <= SERVED_NAME_MAX_LENGTH and _SERVED_NAME.fullmatch(name) is not None


class ModelRules:
    """The model checks of one validation pass, adding to its report."""

    def __init__(
        self,
        report: Report,
        is_known_model: Callable[[str], bool],
        workspace: WorkspaceModels | None,
    ) -> None:
        self.report = report
        self.is_known_model = is_known_model
        self.workspace = workspace
        self.known: dict[str, bool] = {}
        self.default_model: str | None = None

    def check_default(self, model: str, where: Where) -> None:
        """The workflow's `default_model`, which agents without a model of their own use."""
        self.default_model = model
        self.check_name(model, where)

    def check_agent(self, config: Mapping[str, Any], where: Where) -> None:
        """An agent's `model` (when it sets one) with its `credential` (when it names one)."""
        raw_model = config.get("model")
        model = blank_to_none(raw_model) if isinstance(raw_model, str) else None
        credential = blank_to_none(config.get("credential"))
        if credential is not None and not isinstance(credential, str):
            self.report.error(
                "invalid_type",
                "credential must be a string: a credential's id",
                where.at("credential"),
            )
            return
        if credential is None or self.workspace is None:
            if model is not None:
                self.check_name(model, where.at("model"))
            return
        provider = self.workspace.credentials.get(credential)
        if provider is None:
            self.report.error(
                "credential_not_found",
                "the credential this node names does not exist in this workspace",
                where.at("credential"),
            )
            return
        if provider in self.workspace.any_name:
            if model is not None:
                self.check_served(model, where.at("model"))
            return
        used = model or self.default_model
        if used is not None and provider_of(used) != provider:
            self.report.error(
                "credential_mismatch",
                f"the credential is for {provider}, not for model {used!r}",
                where.at("credential"),
            )
        elif model is not None:
            self.check_name(model, where.at("model"))

    def check_name(self, model: str, where: Where) -> None:
        workspace = self.workspace
        provider = provider_of(model)
        if workspace is not None and provider in workspace.any_name:
            if provider in workspace.providers:
                self.check_served(model, where)
                return
        elif not self.known_model(model):
            self.report.error("unknown_model", f"unknown model {model!r}", where)
            return
        if workspace is None or provider in workspace.providers:
            return
        if not provider:
            message = f"model {model!r} names no provider: write it as provider/name"
        else:
            message = (
                f"model {model!r} cannot be called in this workspace: it has no {provider} "
                "credential and the operator set no key for it"
            )
        self.report.error("model_unavailable", message, where)

    def check_served(self, model: str, where: Where) -> None:
        if not is_served_name(served_name(model)):
            self.report.error(
                "invalid_model_name",
                f"a model name a server is asked for is 1 to {SERVED_NAME_MAX_LENGTH} characters:"
                " letters, digits and . _ : @ + -, its parts separated by single slashes",
                where,
            )

    def known_model(self, model: str) -> bool:
        known = self.known.get(model)
        if known is None:
            known = self.known[model] = self.is_known_model(model)
        return known


def model_problems(
    document: Mapping[str, Any],
    *,
    is_known_model: Callable[[str], bool],
    workspace: WorkspaceModels,
) -> list[Problem]:
    """The `MODEL_CODES` problems of a document already validated whole.

    A run checks these again against the workspace as it is when the run
    starts: a credential added, deleted or replaced since the save changes them,
    and nothing else in the document needs a second look.
    """
    report = Report()
    rules = ModelRules(report, is_known_model, workspace)
    settings = document.get("settings")
    default = settings.get("default_model") if isinstance(settings, dict) else None
    if isinstance(default, str) and blank_to_none(default) is not None:
        rules.check_default(default, Where("settings").at("default_model"))
    nodes = document.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, dict) or node.get("type") not in AGENT_TYPES:
            continue
        data = node.get("data")
        config = data.get("config") if isinstance(data, dict) else None
        if isinstance(config, dict):
            node_id = node.get("id")
            where = Where(f"nodes[{index}]", node_id if isinstance(node_id, str) else None)
            rules.check_agent(config, where.at("data").at("config"))
    return [p for p in report.problems if p.code in MODEL_CODES]
