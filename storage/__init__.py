"""Artifact storage adapters: where the large outputs (MIDI, audio) of a composition are kept."""
