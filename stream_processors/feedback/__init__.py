"""The feedback/RL process: ratings joined with completions (``handler``), its faust wiring (``app``)."""
