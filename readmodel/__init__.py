"""The read side: tenants and their keys, compositions as the projector sees them, their event log.

SQLAlchemy models (``models.py``), the projection of public events into them (``projection.py``)
and the queries the API serves from them (``queries.py``). Nothing here talks to Kafka or HTTP.
"""
