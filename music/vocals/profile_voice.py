"""A user's measured voice profile as a singer's voice: the melody in its range, its timbre (the
stock speaker's envelope warped by the measured formants and equalised towards the measured
envelope, tilt included), its vibrato and breath.

Every singer takes it unchanged: the WORLD singers start from the text-to-speech speaker of the
nearest stock voice (:func:`nearest_stock_voice`) and reshape its envelope; the formant singer
scales its own formants.
"""

from __future__ import annotations

from composition.models import VoiceProfile as MeasuredVoice
from music.errors import StageError
from music.vocals.style import NEUTRAL_FORMANTS, VOICE_PROFILES, VoiceProfile, scale_from_formants
from music.voices import VOICE_RANGES

TYPICAL_VIBRATO_CENTS = 40.0  # the style's depth at a middling genre vibrato (10 + 60 * 0.5)
TYPICAL_VIBRATO_HZ = 5.5
NO_VIBRATO_DEPTH = 0.6  # a voice recorded without vibrato (speech) still sings with a little
BREATH_BASE, BREATH_PER_UNIT = 0.03, 0.25


def nearest_stock_voice(profile: MeasuredVoice) -> str:
    """The stock voice whose range lies nearest the profile's (midpoints; ties to the lower voice)."""
    middle = (profile.range_low + profile.range_high) / 2
    return min(VOICE_RANGES, key=lambda v: (abs(sum(VOICE_RANGES[v]) / 2 - middle), sum(VOICE_RANGES[v])))


def formant_scale(profile: MeasuredVoice, fallback: float) -> float:
    """The tract scale from the measured F1..F3 (``fallback`` without them), within 0.8..1.4."""
    found = tuple(f for f in profile.formants_hz[:len(NEUTRAL_FORMANTS)] if f > 0)
    return min(max(scale_from_formants(found), 0.8), 1.4) if found else fallback


def profile_voice(voice_id: str, profile: MeasuredVoice) -> VoiceProfile:
    """The singer's voice for a measured profile (named by the profile's id)."""
    stock = VOICE_PROFILES[nearest_stock_voice(profile)]
    if profile.vibrato_rate_hz > 0:
        depth = min(max(profile.vibrato_depth_cents / TYPICAL_VIBRATO_CENTS, 0.3), 2.0)
        rate = min(max(profile.vibrato_rate_hz - TYPICAL_VIBRATO_HZ, -1.5), 1.5)
    else:
        depth, rate = NO_VIBRATO_DEPTH, 0.0
    envelope = tuple(zip(profile.envelope_hz, profile.envelope_db)) or None
    return VoiceProfile(voice_id, profile.range_low, profile.range_high,
                        formant_scale=formant_scale(profile, stock.formant_scale), tilt=stock.tilt,
                        breath=BREATH_BASE + BREATH_PER_UNIT * profile.breathiness, vibrato_depth=depth,
                        vibrato_rate=rate, envelope=envelope, speaker=stock.name)


def singer_voice(voice: str | None, profile: MeasuredVoice | None) -> VoiceProfile:
    """The voice a request sings with: a stock voice by name, or its measured profile."""
    if profile is not None:
        return profile_voice(str(voice), profile)
    found = VOICE_PROFILES.get(voice or "")
    if found is None:
        raise StageError("unknown_voice", f"no voice profile {voice!r}; known: {', '.join(VOICE_PROFILES)}")
    return found
