"""Helpdesk: the shared package of every function (domain, data access, HTTP plumbing)."""
