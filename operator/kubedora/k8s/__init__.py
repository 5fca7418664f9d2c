"""Thin async helpers over the Kubernetes API (kubernetes_asyncio)."""
