"""The DJ: a set of finished songs, mixed as one (the ``set`` workflow's engine).

``analyse`` measures each song (tempo, beat grid, downbeats, key, energy), ``order`` arranges them
(Camelot-wheel harmonic mixing, tempo steps, an energy arc), ``plan`` places each beat-matched
transition on phrase boundaries, ``mix`` stretches every song to the set's tempo and cross-fades
with an EQ swap at a downbeat, ``measure`` hears the result (beat alignment at each transition),
``sheets`` writes the cue sheet and the tracklist, ``announcer`` speaks the next song's title.
Pure: arrays and bytes in and out; ``providers`` adapts them to the set stages.
"""
