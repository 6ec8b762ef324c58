"""The analytics consumer: a downstream reader of the public event stream (compositions.events), the
requests (compositions.requests, for what was asked of compositions that never completed) and the
ratings (compositions.feedback), into PostgreSQL tables it alone writes; the API serves each
tenant's own figures from them (``queries.py``)."""
