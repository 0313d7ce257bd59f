"""The medical volume viewer's API: listing, info, slices as PNG, the same auth as the rest."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.server.conftest import Api

pytestmark = pytest.mark.integration


@pytest.fixture
def library(api: Api, data_dir: Path, tmp_path: Path) -> Api:
    from shigu.server.volumes import VolumeLibrary

    root = tmp_path / "volumes"
    (root / "head").mkdir(parents=True)
    for f in (data_dir / "medical" / "ct_ge_head_gantry_tilt").glob("*.dcm"):
        os.symlink(f, root / "head" / f.name)
    ts = data_dir / "medical" / "totalsegmentator"
    shutil.copy(ts / "example_ct_sm.nii.gz", root / "abdomen.nii.gz")
    shutil.copy(ts / "example_seg.nii.gz", root / "abdomen_seg.nii.gz")
    api.ctx.volumes = VolumeLibrary(root)  # type: ignore[attr-defined]
    return api


def _png(body: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def test_list_info_and_slices(library: Api) -> None:
    client = library.client("viewer")
    listing = client.get("/api/volumes").json()
    names = {v["name"]: v for v in listing}
    assert set(names) == {"head/", "abdomen.nii.gz", "abdomen_seg.nii.gz"}
    assert names["abdomen.nii.gz"]["overlays"] == ["abdomen_seg.nii.gz"]
    assert names["abdomen_seg.nii.gz"]["labels"]
    info = client.get("/api/volumes/info", params={"name": "head/"}).json()
    assert info["modality"] == "CT" and info["window"] == [35.0, 100.0]  # the file's window
    assert len(info["notes"]) == 2  # tilt and spacing corrected
    axial = client.get("/api/volumes/slice", params={"name": "head/", "plane": "axial"})
    assert axial.status_code == 200 and axial.headers["content-type"] == "image/png"
    brain = _png(axial.content)
    bone = _png(
        client.get(
            "/api/volumes/slice",
            params={"name": "head/", "plane": "axial", "center": 400, "width": 1800},
        ).content
    )
    assert brain.shape == bone.shape and np.abs(brain.astype(int) - bone).mean() > 5
    plain = _png(
        client.get(
            "/api/volumes/slice", params={"name": "abdomen.nii.gz", "plane": "coronal"}
        ).content
    )
    tinted = _png(
        client.get(
            "/api/volumes/slice",
            params={"name": "abdomen.nii.gz", "plane": "coronal", "overlay": "abdomen_seg.nii.gz"},
        ).content
    )
    colour = np.abs(tinted[..., 2].astype(int) - tinted[..., 1]).mean()
    assert np.abs(plain[..., 2].astype(int) - plain[..., 1]).mean() == 0 and colour > 5
    assert plain.shape[:2] == (30, 122)  # 3 mm voxels: 30 slices high, 122 wide
    coronal = _png(
        client.get("/api/volumes/slice", params={"name": "head/", "plane": "coronal"}).content
    )
    assert coronal.shape[:2] == (round(56 * 2.619787 / 0.488281), 512)  # square millimetres


def test_bad_requests_and_auth(library: Api) -> None:
    client = library.client("viewer")
    assert library.client().get("/api/volumes").status_code == 401
    assert client.get("/api/volumes/info", params={"name": "../../etc/passwd"}).status_code == 404
    assert (
        client.get(
            "/api/volumes/slice", params={"name": "abdomen.nii.gz", "plane": "oblique"}
        ).status_code
        == 400
    )
    assert (
        client.get(
            "/api/volumes/slice", params={"name": "abdomen.nii.gz", "plane": "axial", "index": 30}
        ).status_code
        == 400
    )
    assert (
        client.get(
            "/api/volumes/slice", params={"name": "abdomen.nii.gz", "center": "nan", "width": 10}
        ).status_code
        == 422
    )
    assert (
        client.get(
            "/api/volumes/slice", params={"name": "abdomen.nii.gz", "overlay": "head/"}
        ).status_code
        == 400
    )


def test_without_volumes_the_routes_say_how(api: Api) -> None:
    response = api.client("viewer").get("/api/volumes")
    assert response.status_code == 404 and "--volumes" in response.json()["detail"]
