"""A small client for the Confluent Schema Registry REST API (v7), over httpx.

Only what Cadenza needs: register a schema under a subject, set a subject's compatibility level,
look a schema up by id, ask whether a schema would be accepted. Apicurio Registry serves this API at
``/apis/ccompat/v7``; Confluent's own registry at its root. (confluent-kafka 2.16.1's SchemaRegistryClient would do too, but its
``schemaregistry`` extra pulls httpx2 - a second HTTP client beside httpx - authlib, attrs,
cachetools and certifi>=2026.10.19, for four calls.)
Every failure is a :class:`schemas.errors.SchemaRegistryError` naming the call and the registry's
own message.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from schemas.errors import SchemaRegistryError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
LEVELS = ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE")


class RegistryClient:
    """Calls on one registry; ``url`` is the API's base (e.g. ``http://127.0.0.1:29081/apis/ccompat/v7``)."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, headers={"Content-Type": CONTENT_TYPE})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def set_compatibility(self, subject: str, level: str) -> None:
        """Set ``subject``'s compatibility level (it need not exist yet)."""
        if level not in LEVELS:
            raise ValueError(f"compatibility {level!r} is not one of {', '.join(LEVELS)}")
        self._call("PUT", f"/config/{subject}", {"compatibility": level})

    def compatibility(self, subject: str) -> str:
        body = self._call("GET", f"/config/{subject}")
        return body.get("compatibilityLevel") or body["compatibility"]

    def register(self, subject: str, schema: Any) -> int:
        """Register ``schema`` (Avro, as JSON data) under ``subject``; its id (the same id if already there).

        A schema the subject's compatibility level refuses is a SchemaRegistryError with status 409.
        """
        return int(self._call("POST", f"/subjects/{subject}/versions", {"schema": json.dumps(schema)})["id"])

    def is_compatible(self, subject: str, schema: Any) -> bool:
        """Whether ``schema`` would be accepted as the subject's next version (nothing is registered)."""
        body = self._call("POST", f"/compatibility/subjects/{subject}/versions/latest", {"schema": json.dumps(schema)})
        return bool(body["is_compatible"])

    def schema(self, schema_id: int) -> Any | None:
        """The schema (JSON data) with ``schema_id``; None if the registry has none."""
        try:
            body = self._call("GET", f"/schemas/ids/{schema_id}")
        except SchemaRegistryError as exc:
            if exc.status == 404:
                return None
            raise
        if body.get("schemaType", "AVRO") != "AVRO":
            raise SchemaRegistryError(f"schema {schema_id} is {body['schemaType']}, not AVRO", status=200)
        return json.loads(body["schema"])

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        try:
            response = self._http.request(method, path, json=payload)
        except httpx.HTTPError as exc:
            raise SchemaRegistryError(f"{method} {self.url}{path}: registry unreachable ({exc})") from exc
        if response.status_code >= 300:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise SchemaRegistryError(f"{method} {self.url}{path}: HTTP {response.status_code}: {message}",
                                      status=response.status_code)
        return response.json()
