"""People's poses over a video: detector, tracker and BlazePose on the pipeline's one frame
loop, gathered per track as `PersonMotion`s."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shigu.solutions.avatar.motion import PersonMotion


@dataclass
class Capture:
    """What a run saw: each track's motion, every frame's media time, the job's report."""

    people: dict[int, PersonMotion] = field(default_factory=dict)
    stamps: list[float] = field(default_factory=list)
    report: Any = None

    @property
    def frame_time(self) -> float:
        """Mean time between frames, from the frames' own times."""
        s = self.stamps
        return (s[-1] - s[0]) / (len(s) - 1) if len(s) > 1 else 1 / 30

    def longest(self, n: int | None = None) -> list[PersonMotion]:
        ready = sorted((m for m in self.people.values() if m.ready), key=lambda m: -len(m.worlds))
        return ready if n is None else ready[:n]


def capture(
    source: Any,
    *,
    conf: float = 0.3,
    device: str = "cpu",
    smooth: bool = True,
    hfov_deg: float = 55.0,
    max_frames: int | None = None,
    show_progress: bool = False,
    on_person: Callable[[PersonMotion], None] | None = None,
) -> Capture:
    """Run the pose pipeline over an opened ``source``; ``on_person`` sees each new pose."""
    from shigu.cli._video_job import run_video_job
    from shigu.detect.factory import load_detector
    from shigu.detect.stream import throughput_plan
    from shigu.pipeline.graph import StageGraph
    from shigu.stages import StageContext
    from shigu.stages.secondary import SecondaryConfig
    from shigu.track.factory import DEFAULT, create_tracker

    workers, threads = throughput_plan(device)
    det = load_detector("yolox-nano", device=device, conf=conf, classes="person", threads=threads)
    sec = SecondaryConfig(model="blazepose-full", classes=["person"], min_box=32.0, device=device)
    graph = StageGraph.build([sec], [], StageContext(det.labels, device))
    tracker = create_tracker(DEFAULT, source.output_fps or 30.0)
    result = Capture()

    def collect(frame: Any, dets: Any, _: Any) -> None:
        result.stamps.append(float(frame.timestamp))
        world = dets.data.get("pose_world")
        marks = dets.data.get("pose_landmarks")
        age = dets.data.get("pose_age")
        if world is None or marks is None or age is None or dets.tracker_id is None:
            return
        width = int(frame.image.shape[1])
        for i, tid in enumerate(dets.tracker_id.tolist()):
            if tid < 0 or age[i] != 0 or not np.isfinite(world[i]).all():
                continue
            motion = result.people.get(tid)
            if motion is None:
                motion = result.people[tid] = PersonMotion(tid, width, hfov_deg, smooth)
            motion.add(float(frame.timestamp), int(frame.index), world[i], marks[i])
            if on_person is not None:
                on_person(motion)

    try:
        result.report = run_video_job(
            source,
            det,
            workers=workers,
            tracker=tracker,
            max_frames=max_frames,
            show_progress=show_progress,
            description="avatar",
            graph=graph,
            on_frame=collect,
        )
    finally:
        graph.close()
    return result
