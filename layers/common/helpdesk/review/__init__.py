"""The built-in AI review: a deterministic engine, secret redaction and the duplicate index."""
