"""The secondary stage's choices (classes, sizes, rates), per-track aggregation, batching."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.stages import FrameItem, StageContext
from shigu.stages.secondary import SecondaryConfig, SecondaryStage, SecondaryTask

LABELS = ("person", "car")


class CountingTask(SecondaryTask):
    """Returns each crop's box width as its value; remembers every call."""

    key = "width"

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def run(self, jobs: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        self.calls.append([len(b) for _, b in jobs])
        return [{"width": (b[:, 2] - b[:, 0])[:, None], "quality": b[:, 3] - b[:, 1]}
                for _, b in jobs]  # fmt: skip

    def event_attributes(self, values: dict[str, np.ndarray]) -> dict[str, Any]:
        return {"width": float(values["width"][0])}


def _item(index: int, boxes: list[list[float]], classes: list[int], ids: list[int] | None,
          source: str = "a") -> FrameItem:  # fmt: skip
    dets = Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9), np.array(classes),
                      None if ids is None else np.array(ids))  # fmt: skip
    return FrameItem(Frame(np.zeros((200, 200, 3), np.uint8), index, index / 25, source), dets)


def _stage(**cfg: Any) -> tuple[SecondaryStage, CountingTask]:
    task = CountingTask()
    return SecondaryStage(SecondaryConfig(model="x", **cfg), StageContext(LABELS), task), task


def test_classes_and_min_box_choose_objects() -> None:
    stage, task = _stage(min_box=30)
    item = _item(0, [[0, 0, 40, 80], [0, 0, 10, 20], [0, 0, 60, 40]], [0, 0, 1], [1, 2, 3])
    stage.process([item])
    width = item.detections.data["width"]
    assert width[0, 0] == 40 and np.isnan(width[1:]).all()  # small person, car: not run
    assert item.detections.data["width_age"].tolist() == [0, -1, -1]
    assert task.calls == [[1]]


def test_crops_from_all_frames_and_sources_in_one_call() -> None:
    stage, task = _stage()
    items = [_item(0, [[0, 0, 40, 80]] * 2, [0, 0], [1, 2], "a"),
             _item(0, [[0, 0, 50, 90]], [0], [1], "b")]  # fmt: skip
    stage.process(items)
    assert task.calls == [[2, 1]] and stage.model_calls == 1 and stage.crops_run == 3
    assert stage.track_attributes("b", 1) == {"width": 50.0}
    assert stage.track_attributes("a", 9) == {}


def test_every_n_frames_and_once_per_track_carry_the_result() -> None:
    stage, task = _stage(every_n_frames=3)
    for i in range(6):
        stage.process([_item(i, [[0, 0, 40 + i, 80]], [0], [7])])
    assert sum(sum(c) for c in task.calls) == 2  # frames 0 and 3
    item = _item(6 - 1, [[0, 0, 99, 80]], [0], [7])
    stage2, task2 = _stage(once_per_track=True)
    for i in range(5):
        item = _item(i, [[0, 0, 40 + i, 80]], [0], [7])
        stage2.process([item])
    assert sum(sum(c) for c in task2.calls) == 1
    assert item.detections.data["width"][0, 0] == 40  # carried from the first run
    assert item.detections.data["width_age"][0] == 4


def test_untracked_objects_run_every_nth_frame() -> None:
    stage, task = _stage(every_n_frames=2)
    for i in range(4):
        stage.process([_item(i, [[0, 0, 40, 80]], [0], None)])
    assert [sum(c) for c in task.calls] == [1, 1]


def test_max_per_frame_prefers_new_tracks_then_stalest() -> None:
    stage, _ = _stage(max_per_frame=1)
    boxes = [[0, 0, 40, 80], [0, 0, 60, 90]]
    seen = []
    for i in range(4):
        item = _item(i, boxes, [0, 0], [1, 2])
        stage.process([item])
        seen.append(int(np.flatnonzero(item.detections.data["width_age"] == 0)[0]))
    assert seen == [1, 0, 1, 0]  # bigger new track first, then alternating by staleness


@pytest.mark.parametrize(("aggregate", "expected"), [
    ("latest", 44.0), ("best", 42.0), ("mean", None), ("vote", 41.0),
])  # fmt: skip
def test_aggregation_per_track(aggregate: str, expected: float | None) -> None:
    stage, _ = _stage(aggregate=aggregate)
    # widths 41, 42, 41, 44 with qualities (heights) 80, 95, 80, 60
    for i, (w, h) in enumerate([(41, 80), (42, 95), (41, 80), (44, 60)]):
        stage.process([_item(i, [[0, 0, w, h]], [0], [5])])
    got = stage.tracks[("a", 5)].values["width"][0]
    if expected is None:
        weights = np.array([80, 95, 80, 60.0])
        expected = float((np.array([41, 42, 41, 44]) * weights).sum() / weights.sum())
    assert got == pytest.approx(expected)


def test_unknown_class_is_a_config_error() -> None:
    from shigu.core.errors import InputError

    with pytest.raises(InputError):
        _stage(classes=["zebra"])


def test_a_batch_of_frames_runs_a_new_track_once() -> None:
    """Several frames of one track in one batch: once_per_track and every_n_frames still
    hold, though no result is known when the frames are chosen."""
    stage, task = _stage(once_per_track=True)
    stage.process([_item(i, [[0, 0, 40, 80]], [0], [3]) for i in range(4)])
    assert task.calls == [[1]]
    stage, task = _stage(every_n_frames=2)
    stage.process([_item(i, [[0, 0, 40, 80]], [0], [3]) for i in range(4)])
    assert task.calls == [[1, 1]]  # frames 0 and 2
