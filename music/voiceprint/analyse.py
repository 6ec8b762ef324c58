"""The ``voice_analyse`` stage: the user's recording into a voice profile, or a refusal naming why.

Reads the recording from the artifact store (the API put it there), trims and checks it
(:mod:`music.voiceprint.recording`), refuses two voices at once (:mod:`music.voiceprint.polyphony`)
and measures the profile (:mod:`music.voiceprint.measure`). The stage takes the recording over: it
is in the section, so compensating the run (a failed preview, a cancel) deletes it, and a recording
the analysis refuses is deleted at once (a voice that cannot be made keeps nothing of the user's voice).
"""

from __future__ import annotations

from composition.artifacts import ArtifactNotFound, ArtifactStore
from composition.models import StageName
from composition.voices import VoiceAnalysisSection, VoiceContext
from music.errors import StageError
from music.stage import BaseProvider
from music.voiceprint.measure import HOP_S, measure
from music.voiceprint.polyphony import MAX_TWO_VOICED_SHARE, two_voiced_share
from music.voiceprint.recording import Recording, prepare


def analyse(recording: Recording) -> VoiceAnalysisSection:
    """The profile of a prepared recording; ``several_voices`` or ``no_voiced_frames`` refuse it."""
    measured = measure(recording)
    share = two_voiced_share(recording.samples, recording.rate, measured.f0, HOP_S)
    if share >= MAX_TWO_VOICED_SHARE:
        raise StageError("several_voices", f"{100 * share:.0f}% of the voiced frames carry a second voice's "
                         "harmonics: record one voice alone, without a sung backing track")
    return VoiceAnalysisSection(profile=measured.profile, duration_s=round(recording.duration_s, 2),
                                voiced_share=round(measured.voiced_share, 3))


class VoiceAnalyser(BaseProvider):
    """WORLD (pyworld) and numpy/scipy analysis of the user's own recording."""

    stage = StageName.VOICE_ANALYSE
    name = "world"
    version = "1"
    capabilities = frozenset({"deterministic"})

    def run(self, ctx: VoiceContext, store: ArtifactStore, namespace: str) -> VoiceAnalysisSection:
        if not isinstance(ctx, VoiceContext):
            raise StageError("missing_input", f"voice analysis needs a voice context, not {type(ctx).__name__}")
        recording = ctx.request.recording
        try:
            data = store.get(recording.uri)
        except ArtifactNotFound:
            raise StageError("recording_missing", "the recording is gone (the voice was deleted)") from None
        try:
            section = analyse(prepare(data))
        except StageError as exc:
            if not exc.retryable:
                store.delete(recording.uri)
            raise
        return section.model_copy(update={"recording": recording})
