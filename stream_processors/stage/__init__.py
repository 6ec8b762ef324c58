"""The stage worker: the handler (plain Python, unit-tested), the pool side that runs the work, and
its faust wiring (``app``)."""
