"""Tenants and their API keys: who may call the API, and with which limits (``models``, ``keys``)."""
