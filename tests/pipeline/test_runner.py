"""A source removed while its thread decodes is closed by that thread, never under it."""

import threading
from pathlib import Path

from shigu.detect.factory import load_detector
from shigu.pipeline.runner import SourceRunner


def test_stop_lets_the_reading_thread_close_its_source(pets_video: Path) -> None:
    runner = SourceRunner(
        "gate", str(pets_video), load_detector("yolox-nano"), realtime=True, loop=True
    )
    runner.open()
    assert runner.source is not None
    closed_by: list[str] = []
    original = runner.source.close

    def close() -> None:
        closed_by.append(threading.current_thread().name)
        original()

    runner.source.close = close  # type: ignore[method-assign]
    runner.start()
    while runner.decoded < 3:
        runner.take()
    runner.stop()
    runner.join(timeout=10)
    assert not runner.is_alive()
    # closing from the caller while PyAV decodes in the runner crashed the process (SIGSEGV)
    assert closed_by and set(closed_by) == {"source-gate"}


def test_stop_before_start_closes_at_once(pets_video: Path) -> None:
    runner = SourceRunner("gate", str(pets_video), load_detector("yolox-nano"))
    runner.open()
    runner.stop()  # never started: nothing reads, the caller closes
    assert runner.source is not None and runner.source._container is None  # type: ignore[attr-defined]


def test_run_progress_total_only_for_files_of_known_length() -> None:
    from types import SimpleNamespace as NS

    from shigu.cli.run_cmd import files_total

    def state(frames: int | None, live: bool = False, loop: bool = False) -> object:
        return NS(runner=NS(info=NS(frame_count=frames, live=live), loop=loop))

    assert files_total({"a": state(795), "b": state(300)}, None) == 1095
    assert files_total({"a": state(795), "b": state(300)}, 100) == 200
    assert files_total({"a": state(795), "cam": state(None, live=True)}, None) is None
    assert files_total({"a": state(795, loop=True)}, None) is None
