"""`config validate` checks per-source detectors and secondary models like the pipeline's."""

from __future__ import annotations

from pathlib import Path

from shigu.pipeline import parse_config
from shigu.pipeline.checks import check_config


def test_source_detectors_and_secondary_models_are_checked(pets_video: Path) -> None:
    cfg = parse_config({
        "sources": [{"id": "a", "uri": str(pets_video)},
                    {"id": "b", "uri": str(pets_video),
                     "detector": {"model": "yunet-face", "classes": ["person"]}},
                    {"id": "c", "uri": str(pets_video),
                     "detector": {"model": "movenet-lightning"}}],
        "pipeline": {"secondary": [{"model": "yolox-nano"},
                                   {"model": "blazepose-full", "classes": ["unicorn"]}]},
        "lines": [{"id": "l", "source": "b", "points": [[0, 0], [10, 10]], "classes": ["car"]}],
    })  # fmt: skip
    problems = check_config(cfg)
    assert "sources[1].detector.classes[0]: 'person' is not a class of yunet-face" in problems
    assert "sources[2].detector.model: movenet-lightning is a movenet model, not a detector" in (
        problems
    )
    assert any(p.startswith("pipeline.secondary[0].model: 'yolox-nano' is not a secondary")
               for p in problems)  # fmt: skip
    assert "pipeline.secondary[1].classes[0]: 'unicorn' is not a class of yolox-nano" in problems
    assert "lines[0].classes[0]: 'car' is not a class of yunet-face" in problems
    good = parse_config({"sources": [{"id": "a", "uri": str(pets_video)}],
                         "pipeline": {"secondary": [{"model": "movenet-lightning"}]}})  # fmt: skip
    assert check_config(good) == []
