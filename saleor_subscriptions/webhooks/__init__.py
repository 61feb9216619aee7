"""Webhooks out: event names, payloads, signatures and the HTTP POST (no Saleor imports)."""
