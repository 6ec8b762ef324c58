"""Lyric writers that live outside the pure engine (they talk to services over the network)."""
