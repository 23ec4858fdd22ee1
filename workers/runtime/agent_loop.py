"""An agent with tools: model turns and tool calls, each one a durable step (SPEC §11).

The loop sends the conversation with the tools, runs each call the model asks
for (an http tool through the http node's guarded request, an MCP tool through
``server.tools.mcp_client``, a workflow tool as a child run through
``services.child_runs``) and feeds the results back, until the model
answers without a call. Every model turn and every tool result is recorded
(``services.agent_steps``) before the loop goes on, so a worker that takes
the node over after a crash replays the recorded steps and sends no call whose
result is there. A tool's failure (a refused address, an error status, bad
arguments) is the tool's result: the model reads it and decides.

Bounds: ``max_tool_calls``, the node's ``timeout_s`` for the whole loop, the
run's budgets (checked as each step is recorded) and a stopped run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.db import connection

from server.accounts.models import Workspace
from server.core.errors import CodedError
from server.core.limits import engine_limits
from server.egress import EgressError
from server.runs import http_calls
from server.runs.models import AgentStep, AgentStepKind, RunState
from server.runs.services import agent_steps, child_runs, execution, side_effects
from server.tools import mcp_client
from workers.engine.budget import Budget
from workers.engine.expression_budget import ExpressionBudget
from workers.engine.expressions import ExpressionError
from workers.engine.hashing import sha256_hex
from workers.engine.http_request import HttpConfig
from workers.engine.tools import (
    AgentTools,
    HttpTool,
    McpServer,
    WorkflowTool,
    function_specs,
    mcp_function_specs,
)
from workers.llm.json_answer import parse_json_answer
from workers.llm.tool_calls import (
    ToolCall,
    call_with_tools,
    opening_messages,
    parse_message,
    tool_result_message,
)
from workers.llm.types import ModelRequest, Usage
from workers.runtime.http_node import HttpNodeError, send_http

# What one tool result may hand the model (an MCP result is cut the same way).
MAX_RESULT_CHARS = mcp_client.MAX_RESULT_CHARS
# MCP servers' tool lists, per run and server, for this process.
tool_lists = mcp_client.ToolListCache()
# How often a workflow tool looks at its child run: soon at first, then every second.
CHILD_POLL_FIRST_S = 0.05
CHILD_POLL_MAX_S = 1.0


class AgentLoopError(CodedError):
    """The loop ended without an answer (``cancelled``: stopped, nothing to record)."""


@dataclass
class _Toolbox:
    """The functions offered to the model, and where each name is sent."""

    specs: list[dict[str, Any]] = field(default_factory=list)
    http: dict[str, HttpTool] = field(default_factory=dict)
    mcp: dict[str, McpServer] = field(default_factory=dict)
    workflow: dict[str, WorkflowTool] = field(default_factory=dict)


@dataclass
class _Result:
    content: str
    error: dict[str, str] | None = None
    effect: side_effects.Effect | None = None
    child_run: str | None = None


class AgentLoop:
    """One attempt of one agent node with tools, from its recorded steps to its answer."""

    def __init__(
        self,
        claim: execution.Claim,
        request: ModelRequest,
        tools: AgentTools,
        *,
        hashes: tuple[str, str],
        budget: Budget,
        should_stop: Callable[[], bool],
    ) -> None:
        self.claim = claim
        self.request = request
        self.tools = tools
        self.hashes = hashes
        self.budget = budget
        self.should_stop = should_stop
        self.deadline = time.monotonic() + request.timeout_s
        self.messages = opening_messages(request)
        self.steps: list[AgentStep] = []
        self.usage = Usage(0, 0)
        self.cost_usd = 0.0
        self._toolbox: _Toolbox | None = None

    def run(self) -> dict[str, Any]:
        try:
            steps = agent_steps.recorded(self.claim, *self.hashes) or agent_steps.reuse_earlier(
                self.claim, *self.hashes
            )
        except agent_steps.StepNotRecorded as exc:
            raise AgentLoopError(exc.code, exc.message) from None
        for step in steps:
            self._replay(step)
        while True:
            self._check()
            last = self._last_turn()
            if last is None:
                self._model_turn()
                continue
            turn = self.steps[last].message
            pending = self._pending(last)
            if pending:
                self._call(pending[0])
            elif turn.get("tool_calls"):
                self._model_turn()
            else:
                return self._output(str(turn.get("content") or ""))

    def _replay(self, step: AgentStep) -> None:
        self.steps.append(step)
        self.messages.append(step.message)
        if step.kind == AgentStepKind.MODEL and not step.reused:
            usage = step.result.get("usage") or {}
            self._add_usage(
                usage.get("prompt_tokens", 0),
                usage.get("completion_tokens", 0),
                step.result.get("cost_usd", 0.0),
            )

    def _add_usage(self, prompt: int, completion: int, cost: float) -> None:
        self.usage = Usage(
            self.usage.prompt_tokens + prompt, self.usage.completion_tokens + completion
        )
        self.cost_usd += cost

    def _last_turn(self) -> int | None:
        """The index of the last model turn."""
        for index in range(len(self.steps) - 1, -1, -1):
            if self.steps[index].kind == AgentStepKind.MODEL:
                return index
        return None

    def _pending(self, last: int) -> list[ToolCall]:
        """The calls of the last turn that have no recorded result yet, in order."""
        # Ids are the model's: only unique within a turn.
        answered = {step.call_id for step in self.steps[last + 1 :]}
        turn = self.steps[last].message
        calls = parse_message(turn, self.request.model, Usage(0, 0), 0.0).tool_calls
        return [call for call in calls if call.id not in answered]

    def _calls_made(self) -> int:
        return sum(1 for step in self.steps if step.kind == AgentStepKind.TOOL)

    def _remaining_s(self) -> float:
        return self.deadline - time.monotonic()

    def _check(self) -> None:
        if self.should_stop():
            raise AgentLoopError("cancelled", "the run was stopped")
        if self._remaining_s() <= 0:
            raise AgentLoopError(
                "timeout",
                f"the agent's tool loop took longer than its {self.request.timeout_s:g} s",
                retryable=True,
            )

    def _model_turn(self) -> None:
        toolbox = self.toolbox()
        request = replace(self.request, timeout_s=max(self._remaining_s(), 0.001))
        sent_hash = sha256_hex({"messages": self.messages, "tools": toolbox.specs})
        turn = call_with_tools(request, self.messages, toolbox.specs, should_stop=self.should_stop)
        self._add_usage(turn.usage.prompt_tokens, turn.usage.completion_tokens, turn.cost_usd)
        self._record(
            agent_steps.Step(
                index=len(self.steps),
                kind=AgentStepKind.MODEL,
                request_hash=sent_hash,
                message=turn.message,
                result={
                    "model": turn.model,
                    "usage": {
                        "prompt_tokens": turn.usage.prompt_tokens,
                        "completion_tokens": turn.usage.completion_tokens,
                    },
                    "cost_usd": turn.cost_usd,
                },
                calls=tuple(
                    (
                        call.id,
                        call.name,
                        call.arguments if call.arguments is not None else call.raw_arguments,
                    )
                    for call in turn.tool_calls
                ),
            )
        )

    def _call(self, call: ToolCall) -> None:
        limit = self.tools.max_tool_calls
        if self._calls_made() >= limit:
            raise AgentLoopError(
                "max_tool_calls",
                f"the model asked for call {limit + 1} ({call.name}); max_tool_calls is {limit}",
            )
        index = len(self.steps)
        result = self._run_tool(call, index)
        content = result.content
        if len(content) > MAX_RESULT_CHARS:
            content = content[:MAX_RESULT_CHARS] + " [cut]"
        effect = result.effect
        self._record(
            agent_steps.Step(
                index=index,
                kind=AgentStepKind.TOOL,
                request_hash=sha256_hex({"name": call.name, "arguments": call.raw_arguments}),
                message=tool_result_message(call, content),
                result={
                    "status": "error" if result.error else "ok",
                    "bytes": len(content.encode()),
                    **({"child_run": result.child_run} if result.child_run else {}),
                },
                call_id=call.id,
                name=call.name,
                error=result.error,
                record_with=None if effect is None else partial(side_effects.record, effect=effect),
            )
        )

    def _record(self, step: agent_steps.Step) -> None:
        step = replace(
            step,
            prompt_tokens=self.usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens,
            cost_usd=self.cost_usd,
        )
        try:
            agent_steps.record(self.claim, step, *self.hashes, self.budget)
        except agent_steps.StepNotRecorded as exc:
            raise AgentLoopError(exc.code, exc.message) from None
        finally:
            # Back to the pool while the next turn or call waits on the other side.
            connection.close()
        self.steps.append(
            AgentStep(
                index=step.index,
                kind=step.kind,
                call_id=step.call_id,
                message=dict(step.message),
                result=dict(step.result),
            )
        )
        self.messages.append(dict(step.message))

    def toolbox(self) -> _Toolbox:
        """The offered functions; each MCP server's tools listed once per run."""
        if self._toolbox is not None:
            return self._toolbox
        box = _Toolbox(specs=function_specs(self.tools))
        box.http = {tool.name: tool for tool in self.tools.tools if isinstance(tool, HttpTool)}
        box.workflow = {
            tool.name: tool for tool in self.tools.tools if isinstance(tool, WorkflowTool)
        }
        taken = {function["function"]["name"] for function in box.specs}
        for server in self.tools.mcp_servers:
            try:
                listed = tool_lists.get(
                    self.claim.run_id, self._mcp_target(server), server.credential
                )
            except (EgressError, mcp_client.McpError, http_calls.HttpCallError) as exc:
                raise AgentLoopError(
                    getattr(exc, "code", "mcp_error"),
                    f"could not list the tools of {server.url}: {_reason(exc)}",
                    retryable=not isinstance(exc, http_calls.HttpCallError)
                    and getattr(exc, "code", "") != "egress_refused",
                ) from None
            specs = mcp_function_specs(
                server, [(t.name, t.description, t.input_schema) for t in listed], taken
            )
            box.specs += specs
            box.mcp.update({spec["function"]["name"]: server for spec in specs})
        self._toolbox = box
        return box

    def _mcp_target(self, server: McpServer) -> mcp_client.McpTarget:
        auth = http_calls.authentication(self.claim.workspace_id, server.credential)
        allowed = (
            Workspace.objects.filter(pk=self.claim.workspace_id)
            .values_list("allowed_domains", flat=True)
            .first()
        )
        return mcp_client.McpTarget(
            server.url,
            workspace_id=self.claim.workspace_id,
            allowed_domains=allowed or (),
            headers=dict(auth.headers),
            timeout_s=max(self._remaining_s(), 0.001),
        )

    def _run_tool(self, call: ToolCall, index: int) -> _Result:
        """The call's result for the model; only a stopped run is not one."""
        if call.arguments is None:
            return _error("invalid_arguments", "the arguments are not a JSON object")
        toolbox = self.toolbox()
        try:
            if call.name in toolbox.http:
                return self._http_tool(toolbox.http[call.name], call.arguments, index)
            if call.name in toolbox.mcp:
                return self._mcp_tool(toolbox.mcp[call.name], call.name, call.arguments)
            if call.name in toolbox.workflow:
                return self._workflow_tool(toolbox.workflow[call.name], call.arguments, index)
        except HttpNodeError as exc:
            if exc.code == "cancelled":
                raise AgentLoopError("cancelled", exc.message) from None
            return _error(exc.code, exc.message)
        except ExpressionError as exc:
            return _error(exc.code, exc.message)
        except http_calls.HttpCallError as exc:
            return _error(exc.code, exc.message)
        except (EgressError, mcp_client.McpError) as exc:
            return _error(exc.code, _reason(exc))
        except child_runs.ChildRunError as exc:
            return _error(exc.code, exc.message)
        return _error("unknown_tool", f"there is no tool named {call.name}")

    def _http_tool(self, tool: HttpTool, arguments: dict[str, Any], index: int) -> _Result:
        config = HttpConfig.from_config(tool.request)
        config = replace(config, timeout_s=min(config.timeout_s, max(self._remaining_s(), 0.001)))
        # ``$.step`` is stable across a worker's crash: an idempotency key made of
        # it is the same when an unrecorded call is sent again.
        data = {
            "args": arguments,
            "step": {
                "run": str(self.claim.run_id),
                "node": self.claim.node_id,
                "index": index,
            },
        }
        # Each call's templates have a node run's expression time of their own.
        claim = replace(self.claim, budget=ExpressionBudget.for_node(engine_limits()))
        output, effect = send_http(claim, config, data, step=index)
        answer: dict[str, Any] = {"status": output["status"]}
        if output["json"] is not None:
            answer["json"] = output["json"]
        else:
            answer["text"] = output["text"]
        return _Result(json.dumps(answer, ensure_ascii=False), effect=effect)

    def _mcp_tool(self, server: McpServer, name: str, arguments: dict[str, Any]) -> _Result:
        result = mcp_client.call_tool(self._mcp_target(server), name, arguments)
        if result.is_error:
            return _Result(result.text, error={"code": "tool_error", "message": result.text[:500]})
        return _Result(result.text)

    def _workflow_tool(self, tool: WorkflowTool, arguments: dict[str, Any], index: int) -> _Result:
        """The child run's output, or its error; the same child after a crash (``index``)."""
        child_id = child_runs.start_child(self.claim, index, tool.workflow, arguments)
        ended = self._wait_for_child(child_id)
        child = str(child_id)
        if ended.state == RunState.SUCCEEDED:
            return _Result(json.dumps(ended.output, ensure_ascii=False), child_run=child)
        error = dict(ended.error or {})
        result = _error(
            str(error.get("code") or f"child_{ended.state}"),
            f"child run {child} {ended.state}: {error.get('message') or 'no reason given'}",
        )
        return replace(result, child_run=child)

    def _wait_for_child(self, child_id: Any) -> child_runs.Outcome:
        """Poll the child with backoff until it ends, bounded like the whole loop."""
        delay = CHILD_POLL_FIRST_S
        while True:
            self._check()
            try:
                ended = child_runs.outcome(child_id)
            finally:
                # Not held through the wait: a long child would pin a pool connection.
                connection.close()
            if ended is not None:
                return ended
            time.sleep(min(delay, max(self._remaining_s(), 0.0)))
            delay = min(delay * 2, CHILD_POLL_MAX_S)

    def _output(self, text: str) -> dict[str, Any]:
        return {
            "text": text,
            "json": parse_json_answer(text) if self.request.response_format == "json" else None,
            "model": self.request.model,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
            },
            "cost_usd": self.cost_usd,
            "tool_calls": self._calls_made(),
        }


def _error(code: str, message: str) -> _Result:
    error = {"code": code, "message": message[:1000]}
    return _Result(json.dumps({"error": error}, ensure_ascii=False), error=error)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or getattr(exc, "message", None) or exc)
