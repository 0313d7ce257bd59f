"""Config validation: key paths in errors, bad geometry, `shigu config validate`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shigu.core.errors import ConfigError
from shigu.pipeline.config import parse_config
from tests.cli import assert_one_line_error, run_cli

BASE = {"sources": [{"id": "gate", "uri": "video.avi"}]}


def _with(**extra: object) -> dict[str, object]:
    return {**BASE, **extra}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"sources": [{"id": "gate", "uri": "v.avi", "colour": 1}]},
            "sources[0].colour: unknown key",
        ),
        ({**BASE, "zonez": []}, "zonez: unknown key"),
        (
            _with(
                zones=[{"id": "z", "source": "gate", "polygon": [[0, 0], [9, 0], [0, 9], [9, 9]]}]
            ),
            "zones[0].polygon: the polygon intersects itself",
        ),
        (
            _with(
                zones=[
                    {
                        "id": "z",
                        "source": "gate",
                        "polygon": [[0, 0], [9, 0], [9, 9]],
                        "rules": [{"type": "intrusion", "min_seconds": "soon"}],
                    }
                ]
            ),
            "zones[0].rules[0].min_seconds: Input should be a valid number",
        ),
        (
            _with(lines=[{"id": "l", "source": "door", "points": [[0, 0], [5, 5]]}]),
            "lines[0].source: 'door' is not a source id",
        ),
        (
            _with(
                zones=[
                    {
                        "id": "z",
                        "source": "gate",
                        "polygon": [[0, 0], [9, 0], [9, 9]],
                        "rules": [{"type": "speeding", "max_kmh": 50}],
                    }
                ]
            ),
            "speeding needs a calibration",
        ),
        ({"sources": []}, "sources: List should have at least 1 item"),
    ],
)
def test_errors_name_the_key_path(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    assert message in info.value.message


def test_defaults_fill_in() -> None:
    cfg = parse_config(BASE)
    assert cfg.store.url == "sqlite:///shigu.db"
    assert cfg.pipeline.detector.model == "yolox-nano"
    assert cfg.pipeline.tracker is not None and cfg.pipeline.tracker.type == "bytetrack"
    assert cfg.pipeline.tracker.relink() == 2.0


def test_relinking_defaults_off_for_ocsort_and_can_be_set() -> None:
    def tracker(**section: object):  # type: ignore[no-untyped-def]
        cfg = parse_config(_with(pipeline={"tracker": section}))
        assert cfg.pipeline.tracker is not None
        return cfg.pipeline.tracker

    assert tracker(type="ocsort").relink() == 0.0
    assert tracker(type="ocsort", relink_seconds=1.5).relink() == 1.5
    assert tracker(type="bytetrack", relink_seconds=0).relink() == 0.0
    with pytest.raises(ConfigError) as info:
        tracker(relink_seconds=-1)
    assert "pipeline.tracker.relink_seconds" in info.value.message


def test_validate_cli(tmp_path: Path, pets_video: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        yaml.safe_dump(
            {
                "sources": [{"id": "gate", "uri": str(pets_video)}],
                "lines": [{"id": "l", "source": "gate", "points": [[0, 0], [5, 5]]}],
            }
        )
    )
    proc = run_cli("config", "validate", good)
    assert proc.returncode == 0 and "valid (1 sources" in proc.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({"sources": [{"id": "a", "uri": "x", "fsp": 3}], "store": {"ulr": "x"}})
    )
    proc = run_cli("config", "validate", bad)
    assert proc.returncode == 5
    assert "sources[0].fsp: unknown key" in proc.stderr and "store.ulr: unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [\n  - {id: a\n")
    assert_one_line_error(run_cli("run", broken), "not valid YAML", code=5)
    assert_one_line_error(run_cli("run", tmp_path / "none.yaml"), "config file not found", code=5)


def test_validate_finds_what_run_would_reject_all_at_once(tmp_path: Path, pets_video: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"id": "gate", "uri": "missing.mp4"}],
                "pipeline": {
                    "detector": {"model": "yolox-nano", "classes": ["persn"]},
                    "tracker": {"type": "bytetrak"},
                },
                "store": {"url": "mysql://db/x"},
            }
        )
    )
    proc = run_cli("config", "validate", config)
    assert proc.returncode == 5, proc.stderr
    for text in (
        "'persn' is not a class",
        "unknown tracker 'bytetrak'",
        "not a supported store",
        "missing.mp4 does not exist",
    ):
        assert text in proc.stderr, text
    assert_one_line_error(run_cli("run", config), "is not a class", code=5)  # run agrees


def test_probe_checks_geometry_and_paths_resolve_beside_the_config(
    tmp_path: Path, pets_video: Path
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "clip.avi").symlink_to(pets_video)
    config = folder / "c.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [{"id": "gate", "uri": "clip.avi"}],  # beside the config
                "lines": [{"id": "l", "source": "gate", "points": [[0, 0], [900, 100]]}],
            }
        )
    )
    plain = run_cli("config", "validate", config, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr  # geometry needs the frame size: --probe
    probed = run_cli("config", "validate", config, "--probe", cwd=tmp_path)
    assert probed.returncode == 5 and "outside the 480x360 frame" in probed.stderr


def test_unreadable_yaml_is_a_config_error_not_a_traceback(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_text("sources: [{id: a, uri: x, fps: 1" + "0" * 5000 + "}]\n")
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 3000 + "]" * 3000 + "\n")
    for path, text in ((huge, "too many digits"), (deep, "nested too deeply")):
        assert_one_line_error(run_cli("config", "validate", path), text, code=5)
    queue = tmp_path / "q.yaml"
    queue.write_text(
        yaml.safe_dump({"sources": [{"id": "a", "uri": "x"}], "pipeline": {"queue": 100000}})
    )
    proc = run_cli("config", "validate", queue)
    assert proc.returncode == 5 and "pipeline.queue" in proc.stderr
