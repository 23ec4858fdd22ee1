"""Agent tools that reach outside: remote MCP servers (docs/workflow-document.md, "Tools")."""
