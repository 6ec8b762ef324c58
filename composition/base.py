"""The two things every part of the composition domain is built on: frozen models and the stage names."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageName(str, Enum):
    PLAN = "plan"
    HARMONY = "harmony"
    LYRICS = "lyrics"
    MELODY = "melody"
    ARRANGEMENT = "arrangement"
    VOCALS = "vocals"
    RENDER = "render"
    MASTER = "master"
    VOICE_ANALYSE = "voice_analyse"  # the voice workflow: a profile from the user's recording
    VOICE_PREVIEW = "voice_preview"
    SET_ANALYSE = "set_analyse"  # the set workflow: a DJ set of finished songs
    SET_ORDER = "set_order"
    SET_TRANSITIONS = "set_transitions"
    SET_MASTER = "set_master"
