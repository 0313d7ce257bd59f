"""Zones and lines drawn in the dashboard survive a restart of `shigu serve`."""

from pathlib import Path

import yaml

from shigu.pipeline import load_config
from shigu.server.app import build_context


def test_live_changes_are_saved_to_the_config_file(tmp_path: Path, pets_video: Path) -> None:
    path = tmp_path / "site.yaml"
    original = "# my site\n" + yaml.safe_dump(
        {
            "sources": [{"id": "gate", "uri": str(pets_video)}],
            "store": {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")},
        }
    )
    path.write_text(original)
    ctx = build_context(load_config(path), run_engine=False, config_path=path)
    zone = {
        "id": "lawn",
        "source": "gate",
        "polygon": [[200, 195], [330, 248], [330, 300], [200, 300]],
        "rules": [{"type": "loitering", "classes": ["person"], "min_seconds": 5}],
    }
    ctx.host.put_shape("zones", zone, create=True)
    ctx.host.put_shape(
        "lines",
        {"id": "path", "source": "gate", "points": [[330, 80], [330, 340]], "classes": ["person"]},
        create=True,
    )
    zone["rules"] = [{"type": "intrusion", "classes": ["person"], "min_seconds": 2}]
    ctx.host.put_shape("zones", zone, create=False)  # an existing zone edited
    ctx.store.close()
    again = load_config(path)  # as `shigu serve` reads it after a restart
    assert [z.id for z in again.zones] == ["lawn"]
    assert again.zones[0].rules[0].type == "intrusion" and again.zones[0].rules[0].min_seconds == 2
    assert again.lines[0].classes == ["person"]
    assert (tmp_path / "site.yaml.orig").read_text() == original  # the user's file, comments too
    assert "lawn" in (tmp_path / "site.yaml.bak").read_text()  # the state before the last change
    assert not list(tmp_path.glob(".site.yaml-*"))  # no temporary file left
