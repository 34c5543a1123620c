"""The local stack: the whole system on one machine, no Docker (SPEC section 8)."""
