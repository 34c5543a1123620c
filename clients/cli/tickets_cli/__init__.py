"""`tickets`: the Helpdesk command line and MCP server, over the Helpdesk HTTP API (/v1)."""

__version__ = "0.1.0"
