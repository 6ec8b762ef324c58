"""The saga process: the handler (plain Python, unit-tested) and its faust wiring (``app``)."""
