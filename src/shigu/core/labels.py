"""Label sets the bundled models predict."""

from __future__ import annotations

COCO80: tuple[str, ...] = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)

PERSON: tuple[str, ...] = ("person",)
FACE: tuple[str, ...] = ("face",)

LABEL_SETS: dict[str, tuple[str, ...]] = {"coco80": COCO80, "person": PERSON, "face": FACE}


# COCO's category ids of the 80 detection classes in COCO80 order (the dataset numbers 1-90
# with gaps: person 1, tv 72, toothbrush 90)
COCO80_CATEGORY_IDS: tuple[int, ...] = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27,
    28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53,
    54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80,
    81, 82, 84, 85, 86, 87, 88, 89, 90,
)  # fmt: skip


def coco_categories(labels: tuple[str, ...]) -> list[dict[str, object]]:
    """COCO ``categories`` for a label set: COCO's own ids for the 80 COCO classes (person 1,
    tv 72), otherwise 1-based class indices."""
    ids = COCO80_CATEGORY_IDS if tuple(labels) == COCO80 else range(1, len(labels) + 1)
    return [{"id": int(i), "name": name} for i, name in zip(ids, labels, strict=True)]


def label_set(name: str) -> tuple[str, ...]:
    """Look up a named label set (``coco80``, ``person``, ``face``)."""
    return LABEL_SETS[name]


def resolve_classes(names: str | list[str] | None, labels: tuple[str, ...]) -> list[int] | None:
    """Turn ``"person,car"`` or ``["person", 2]`` into class indices of ``labels``.

    Raises ``InputError`` naming the unknown class and the valid ones.
    """
    from shigu.core.errors import InputError

    if names is None:
        return None
    items = [s.strip() for s in names.split(",")] if isinstance(names, str) else list(names)
    out: list[int] = []
    lookup = {n.lower(): i for i, n in enumerate(labels)}
    for item in items:
        if item == "":
            continue
        key = str(item).lower()
        if key in lookup:
            out.append(lookup[key])
        elif key.isdigit() and int(key) < len(labels):
            out.append(int(key))
        else:
            shown = ", ".join(labels[:12]) + (", ..." if len(labels) > 12 else "")
            raise InputError(f"unknown class {item!r}", f"the model knows: {shown}")
    return out
