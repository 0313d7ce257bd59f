"""Known faces: where the matching threshold comes from, and end-to-end decisions per clip.

(a) Similarities. Faces (YuNet >= 0.8, >= 24 px) of every other frame of the GMDCSA24 clips
(subject 1: four clips, subject 3: two) and of the shared COCO pictures (strangers). For each
subject-1 clip held out, subject 1 is enrolled from the other three clips (the mean of their
face embeddings) and compared with the held-out clip's mean embedding (genuine), and with
subject 3's clips and each COCO face (impostors). The threshold is set between the largest
impostor and the smallest genuine similarity; single-frame similarities are shown too.

(b) End to end: subject 1 enrolled from pictures of clips 13 and 14; the pipeline with the
`faces` stage runs on the other clips; per clip, what it decided.

Usage: python benchmarks/faces.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import av
import cv2
import numpy as np

from _common import DATA, machine
from shigu.core.events import Event
from shigu.detect import load_detector
from shigu.pipeline import Pipeline, parse_config
from shigu.solutions.living.faces import (
    DEFAULT_THRESHOLD,
    MIN_FACE_PX,
    FaceEmbedder,
    largest_face,
)
from shigu.store.events import EventStore

FALLS = DATA / "fall" / "gmdcsa24"
COCO = [*sorted((DATA / "images" / "coco_val2017").glob("*.jpg")),
        *sorted((DATA / "pose" / "coco" / "images").glob("*.jpg"))]  # fmt: skip


def clip_faces(clip: Path, det: object, emb: FaceEmbedder, step: int = 2) -> list[np.ndarray]:
    out = []
    with av.open(str(clip)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i % step:
                continue
            image = f.to_ndarray(format="bgr24")
            faces = largest_face(det.detect(image))  # type: ignore[attr-defined]
            if len(faces) and faces.xyxy[0, 2] - faces.xyxy[0, 0] >= MIN_FACE_PX:
                out.append(emb.embed(image, faces)[0])
    return out


def unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def similarities() -> None:
    det, emb = load_detector("yunet-face", conf=0.8), FaceEmbedder()
    clips = {p.relative_to(FALLS).as_posix(): clip_faces(p, det, emb)
             for p in sorted(FALLS.glob("Subject_*/*/*.mp4"))}  # fmt: skip
    seen: set[str] = set()
    strangers = []
    for p in COCO:  # the same COCO picture in two folders counts once
        if p.name in seen:
            continue
        seen.add(p.name)
        found = det.detect(cv2.imread(str(p)))  # type: ignore[attr-defined]
        for k in range(len(found)):
            if found.xyxy[k, 2] - found.xyxy[k, 0] >= MIN_FACE_PX:
                strangers.append(emb.embed(cv2.imread(str(p)), found[np.array([k])])[0])
    print("faces per clip: " + ", ".join(f"{k} {len(v)}" for k, v in clips.items())
          + f"; COCO strangers {len(strangers)}")  # fmt: skip
    s1 = [k for k in clips if k.startswith("Subject_1")]
    s3 = [k for k in clips if k.startswith("Subject_3") and clips[k]]
    genuine, impostor, frame_gen, frame_imp = [], [], [], []
    print(f"\n{'held-out clip':<24}{'genuine':>9}{'max impostor':>14}  (impostors: subject 3 "
          "clips, COCO faces)")  # fmt: skip
    for held in s1:
        enrolled = unit(np.mean([e for k in s1 if k != held for e in clips[k]], axis=0))
        g = float(unit(np.mean(clips[held], axis=0)) @ enrolled)
        imps = [float(unit(np.mean(clips[k], axis=0)) @ enrolled) for k in s3]
        imps += [float(s @ enrolled) for s in strangers]
        genuine.append(g)
        impostor += imps
        frame_gen += [float(e @ enrolled) for e in clips[held]]
        frame_imp += [float(e @ enrolled) for k in s3 for e in clips[k]]
        print(f"{held:<24}{g:>9.3f}{max(imps):>14.3f}")
    lo, hi = max(impostor), min(genuine)
    print(f"\ntrack means: genuine min {hi:.3f}, impostor max {lo:.3f} (the default threshold "
          f"{DEFAULT_THRESHOLD} lies between: {lo < DEFAULT_THRESHOLD <= hi})")  # fmt: skip
    fg, fi = (
        np.array(frame_gen),
        np.array(frame_imp + [float(s @ s2) for s in strangers for s2 in strangers if s is not s2]),
    )
    for t in (0.5, 0.6, 0.7):
        print(f"single frames at {t}: genuine accepted {100 * (fg >= t).mean():.0f}%, "
              f"impostors accepted {100 * (fi >= t).mean():.1f}%")  # fmt: skip


def end_to_end() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pictures = []
        for name in ("Fall/13.mp4", "Fall/14.mp4"):
            with av.open(str(FALLS / "Subject_1" / name)) as c:
                for i, f in enumerate(c.decode(video=0)):
                    if i % 10 == 0 and i < 60:
                        path = root / f"s1_{Path(name).stem}_{i}.jpg"
                        cv2.imwrite(str(path), f.to_ndarray(format="bgr24"))
                        pictures.append(path)
        url = f"sqlite:///{root}/faces.db"
        store = EventStore(url)
        det, emb = load_detector("yunet-face", conf=0.8), FaceEmbedder()
        from shigu.solutions.living.faces import enrolment_embeddings

        ok = []
        for p in pictures:
            try:
                ok += enrolment_embeddings([p], det, emb)
            except Exception:  # frames without a usable face are left out here
                continue
        store.add_faces("subject-1", [e for _, e in ok], "frames of clips 13 and 14")
        store.close()
        print(f"\nend to end: subject 1 enrolled from {len(ok)} of {len(pictures)} pictures")
        for clip in ("Subject_1/Fall/15.mp4", "Subject_1/ADL/16.mp4", "Subject_3/ADL/19.mp4",
                     "Subject_3/Fall/19.mp4"):  # fmt: skip
            cfg = parse_config({
                "sources": [{"id": "room", "uri": str(FALLS / clip)}],
                "pipeline": {"detector": {"classes": ["person"]},
                             "stages": [{"use": "faces", "options": {}}]},
                "store": {"url": url, "media_dir": str(root / "media")},
                "media": {"snapshots": False},
            })  # fmt: skip
            got: list[Event] = []

            def keep(item: object, into: list[Event] = got) -> None:
                if isinstance(item, Event):
                    into.append(item)

            Pipeline(cfg, on_item=keep).run()
            said = [(e.type, e.attributes.get("person"), e.attributes.get("similarity"))
                    for e in got if e.type.endswith("_person")]  # fmt: skip
            print(f"  {clip:<24} {said}")


def main() -> None:
    print(machine())
    similarities()
    end_to_end()


if __name__ == "__main__":
    main()
