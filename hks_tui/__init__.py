"""HKS TUI — a terminal console for Hexabase KaaS workspace admins."""

__version__ = "0.1.0"
