"""Voice profiles from a user's own recording (the voice workflow's stages): ``recording`` (decode,
trim, refuse), ``measure`` (pitch, envelope, formants, tilt, brightness, vibrato, breath),
``polyphony`` (several voices at once), ``analyse`` and ``preview`` (the two stage providers).
The singer that takes a profile on is ``music.vocals.profile_voice``."""

from __future__ import annotations

from music.stage import BaseProvider


def providers() -> list[BaseProvider]:
    """The voice stages' providers: the analyser, and one preview singer per singer of this machine
    (preferred first, as for the vocals stage)."""
    from music import vocals
    from music.voiceprint.analyse import VoiceAnalyser
    from music.voiceprint.preview import VoicePreviewSinger

    return [VoiceAnalyser(), *(VoicePreviewSinger(singer) for singer in vocals.providers())]
