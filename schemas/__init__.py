"""Cadenza's event contract: the Avro schemas (``*.avsc``), their catalog and the wire serde.

``encode(event) -> bytes`` and ``decode(data, reader=None) -> event`` are all a producer or consumer
needs; ``event_type_name(data)`` names a message's event type from its header alone. Every failure
is a :class:`SerdeError` whose ``reason`` a consumer dead-letters on.
"""

from schemas.errors import CadenzaError, SerdeError, SerdeReason
from schemas.serde import decode, encode, event_type_name

__all__ = ["CadenzaError", "SerdeError", "SerdeReason", "decode", "encode", "event_type_name"]
