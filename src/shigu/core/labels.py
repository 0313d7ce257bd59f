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
