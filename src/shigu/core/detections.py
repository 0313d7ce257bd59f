"""``Detections``: the struct-of-arrays batch every stage speaks.

One ``Detections`` holds the objects found in one frame as parallel numpy arrays. Detectors
produce it, trackers set ``tracker_id`` on it, analytics and annotators read it. Indexing
with a boolean mask, an index array or a slice returns a new ``Detections`` over the same
rows of every array, so filtering stays one numpy operation.

Example:
    >>> import numpy as np
    >>> d = Detections(xyxy=np.array([[0, 0, 10, 10], [5, 5, 50, 80]], np.float32),
    ...                confidence=np.array([0.9, 0.4], np.float32),
    ...                class_id=np.array([0, 2], np.int32))
    >>> len(d[d.confidence > 0.5])
    1
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from shigu.core.errors import InputError

Anchor = Literal["center", "bottom_center", "top_center", "top_left", "bottom_right"]

_Index = npt.NDArray[np.bool_] | npt.NDArray[np.integer[Any]] | slice | int | Sequence[int]


def _as(array: Any, dtype: npt.DTypeLike, shape_tail: tuple[int, ...], name: str) -> np.ndarray:
    out = np.asarray(array, dtype=dtype)
    if out.size == 0:
        out = out.reshape((0, *shape_tail))
    if out.ndim != 1 + len(shape_tail) or tuple(out.shape[1:]) != shape_tail:
        raise InputError(f"Detections.{name} must have shape (N, {shape_tail}) but has {out.shape}")
    return out


@dataclass(eq=False)
class Detections:
    """Objects found in one frame, as parallel arrays of length N.

    Attributes:
        xyxy: (N, 4) float32 boxes, pixel corners x1, y1, x2, y2.
        confidence: (N,) float32 scores in [0, 1].
        class_id: (N,) int32 class indices into the model's labels.
        tracker_id: (N,) int64 track identities, or None before tracking (-1 = untracked).
        mask: (N, H, W) bool instance masks, or None.
        keypoints: (N, K, 2) float32 landmark points (e.g. 5 face landmarks), or None.
        data: extra per-detection arrays, each with first dimension N (e.g. ``"embedding"``).
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    tracker_id: np.ndarray | None = None
    mask: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.xyxy = _as(self.xyxy, np.float32, (4,), "xyxy")
        n = len(self.xyxy)
        self.confidence = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        self.class_id = np.asarray(self.class_id, dtype=np.int32).reshape(-1)
        if self.tracker_id is not None:
            self.tracker_id = np.asarray(self.tracker_id, dtype=np.int64).reshape(-1)
        if self.keypoints is not None:
            kp = np.asarray(self.keypoints, dtype=np.float32)
            self.keypoints = kp.reshape((0, *kp.shape[1:])) if kp.size == 0 and kp.ndim == 3 else kp
        for name in ("confidence", "class_id", "tracker_id", "mask", "keypoints"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise InputError(f"Detections.{name} has {len(value)} rows but xyxy has {n}")
        for key, value in self.data.items():
            arr = np.asarray(value)
            if len(arr) != n:
                raise InputError(f"Detections.data[{key!r}] has {len(arr)} rows but xyxy has {n}")
            self.data[key] = arr

    # ------------------------------------------------------------------ construction
    @classmethod
    def trusted(
        cls,
        xyxy: np.ndarray,
        confidence: np.ndarray,
        class_id: np.ndarray,
        tracker_id: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        keypoints: np.ndarray | None = None,
        data: dict[str, np.ndarray] | None = None,
    ) -> Detections:
        """Build without validation, for hot paths whose arrays are already right.

        The caller guarantees dtypes (float32, float32, int32, int64) and equal lengths.
        """
        obj = cls.__new__(cls)
        obj.xyxy, obj.confidence, obj.class_id = xyxy, confidence, class_id
        obj.tracker_id, obj.mask, obj.keypoints = tracker_id, mask, keypoints
        obj.data = {} if data is None else data
        return obj

    @classmethod
    def empty(cls, with_tracker_id: bool = False) -> Detections:
        """A batch with no detections."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int32),
            tracker_id=np.zeros(0, np.int64) if with_tracker_id else None,
        )

    @classmethod
    def merge(cls, items: Iterable[Detections]) -> Detections:
        """Concatenate batches; optional fields are kept only when every batch has them."""
        parts = [d for d in items]
        if not parts:
            return cls.empty()
        nonempty = [d for d in parts if len(d)] or parts[:1]

        def cat(name: str) -> np.ndarray | None:
            values = [getattr(d, name) for d in nonempty]
            if any(v is None for v in values):
                return None
            return np.concatenate(values)

        keys = set.intersection(*(set(d.data) for d in nonempty)) if nonempty else set()
        return cls(
            xyxy=np.concatenate([d.xyxy for d in nonempty]),
            confidence=np.concatenate([d.confidence for d in nonempty]),
            class_id=np.concatenate([d.class_id for d in nonempty]),
            tracker_id=cat("tracker_id"),
            mask=cat("mask"),
            keypoints=cat("keypoints"),
            data={k: np.concatenate([d.data[k] for d in nonempty]) for k in sorted(keys)},
        )

    # ------------------------------------------------------------------ container protocol
    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: _Index) -> Detections:
        """Rows selected by a boolean mask, an index array, a slice or one integer."""
        if isinstance(index, int | np.integer):
            index = [int(index)]
        idx: Any = index
        if not isinstance(index, slice):
            idx = np.asarray(index)
            if idx.dtype == bool and idx.shape != (len(self),):
                raise InputError(
                    f"boolean index of shape {idx.shape} does not match {len(self)} rows"
                )
            if idx.dtype != bool:
                idx = idx.astype(np.int64, copy=False)
        return Detections(
            xyxy=self.xyxy[idx],
            confidence=self.confidence[idx],
            class_id=self.class_id[idx],
            tracker_id=None if self.tracker_id is None else self.tracker_id[idx],
            mask=None if self.mask is None else self.mask[idx],
            keypoints=None if self.keypoints is None else self.keypoints[idx],
            data={k: v[idx] for k, v in self.data.items()},
        )

    def __iter__(self) -> Iterator[Detections]:
        """One single-row ``Detections`` per detection (slow; prefer the arrays)."""
        return (self[i] for i in range(len(self)))

    def equals(self, other: Detections, atol: float = 1e-5) -> bool:
        """True when both batches hold the same rows (boxes compared within ``atol``)."""
        if len(self) != len(other):
            return False
        same = (
            np.allclose(self.xyxy, other.xyxy, atol=atol)
            and np.allclose(self.confidence, other.confidence, atol=atol)
            and np.array_equal(self.class_id, other.class_id)
        )
        if (self.tracker_id is None) != (other.tracker_id is None):
            return False
        if self.tracker_id is not None and other.tracker_id is not None:
            same = same and np.array_equal(self.tracker_id, other.tracker_id)
        return bool(same)

    # ------------------------------------------------------------------ derived values
    @property
    def area(self) -> np.ndarray:
        """(N,) float32 box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:4] - self.xyxy[:, 0:2], 0, None)
        return np.asarray(wh[:, 0] * wh[:, 1], dtype=np.float32)

    def anchors(self, anchor: Anchor = "bottom_center") -> np.ndarray:
        """(N, 2) float32 reference points of the boxes (bottom-centre = a person's feet)."""
        x1, y1, x2, y2 = self.xyxy.T
        cx = (x1 + x2) / 2
        points = {
            "center": (cx, (y1 + y2) / 2),
            "bottom_center": (cx, y2),
            "top_center": (cx, y1),
            "top_left": (x1, y1),
            "bottom_right": (x2, y2),
        }
        if anchor not in points:
            raise InputError(f"unknown anchor {anchor!r}; use one of {sorted(points)}")
        xs, ys = points[anchor]
        return np.stack([xs, ys], axis=1).astype(np.float32)

    # ------------------------------------------------------------------ filtering
    def filter(
        self,
        classes: Iterable[int] | None = None,
        min_confidence: float | None = None,
        min_area: float | None = None,
        max_area: float | None = None,
    ) -> Detections:
        """Keep rows whose class is in ``classes`` and whose score and area are in range."""
        keep = np.ones(len(self), dtype=bool)
        if classes is not None:
            keep &= np.isin(self.class_id, np.fromiter(classes, dtype=np.int32))
        if min_confidence is not None:
            keep &= self.confidence >= min_confidence
        if min_area is not None or max_area is not None:
            area = self.area
            if min_area is not None:
                keep &= area >= min_area
            if max_area is not None:
                keep &= area <= max_area
        return self if keep.all() else self[keep]

    def with_tracker_id(self, tracker_id: np.ndarray) -> Detections:
        """A copy of the rows with ``tracker_id`` set."""
        return Detections(
            self.xyxy,
            self.confidence,
            self.class_id,
            tracker_id,
            self.mask,
            self.keypoints,
            dict(self.data),
        )

    # ------------------------------------------------------------------ JSON
    def to_records(
        self, class_names: Sequence[str] | None = None, decimals: int = 2
    ) -> list[dict[str, Any]]:
        """One JSON-ready dict per detection, in the documented JSONL layout."""
        records: list[dict[str, Any]] = []
        xyxy = np.round(self.xyxy.astype(np.float64), decimals).tolist()
        conf = np.round(self.confidence.astype(np.float64), 4).tolist()
        cls = self.class_id.tolist()
        tid = None if self.tracker_id is None else self.tracker_id.tolist()
        kps = (
            None
            if self.keypoints is None
            else np.round(self.keypoints.astype(np.float64), decimals).tolist()
        )
        for i in range(len(self)):
            rec: dict[str, Any] = {"xyxy": xyxy[i], "confidence": conf[i], "class_id": cls[i]}
            if class_names is not None:
                c = cls[i]
                rec["class_name"] = class_names[c] if 0 <= c < len(class_names) else str(c)
            if tid is not None:
                rec["tracker_id"] = tid[i]
            if kps is not None:
                rec["keypoints"] = kps[i]
            for key, value in self.data.items():
                item = value[i]
                if (
                    np.issubdtype(np.asarray(item).dtype, np.floating)
                    and not np.isfinite(item).all()
                ):
                    continue  # nothing known for this row (e.g. no pose run on it)
                rec[key] = (
                    item.tolist()
                    if isinstance(item, np.ndarray)
                    else (item.item() if isinstance(item, np.generic) else item)
                )
            records.append(rec)
        return records

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]]) -> Detections:
        """Inverse of :meth:`to_records` (``class_name`` is dropped; extra keys go to ``data``)."""
        if not records:
            return cls.empty()
        known = {"xyxy", "confidence", "class_id", "class_name", "tracker_id", "keypoints"}
        try:
            xyxy = np.array([r["xyxy"] for r in records], np.float32)
            conf = np.array([r.get("confidence", 1.0) for r in records], np.float32)
            cls_id = np.array([r.get("class_id", 0) for r in records], np.int32)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"detection record is malformed: {exc}",
                "each record needs xyxy, confidence and class_id",
            ) from exc
        tid = (
            np.array([r["tracker_id"] for r in records], np.int64)
            if all("tracker_id" in r for r in records)
            else None
        )
        kps = (
            np.array([r["keypoints"] for r in records], np.float32)
            if all("keypoints" in r for r in records)
            else None
        )
        extra = set.intersection(*(set(r) - known for r in records))
        data = {k: np.array([r[k] for r in records]) for k in sorted(extra)}
        return cls(xyxy, conf, cls_id, tid, None, kps, data)

    # ------------------------------------------------------------------ supervision
    def to_supervision(self) -> Any:
        """Convert to ``supervision.Detections`` (requires the ``supervision`` package)."""
        try:
            import supervision as sv
        except ImportError as exc:  # pragma: no cover - exercised when supervision is absent
            raise InputError("supervision is not installed", "pip install supervision") from exc
        return sv.Detections(
            xyxy=self.xyxy.astype(np.float32),
            confidence=self.confidence.astype(np.float32),
            class_id=self.class_id.astype(int),
            tracker_id=None if self.tracker_id is None else self.tracker_id.astype(int),
            mask=self.mask,
            data={k: np.asarray(v) for k, v in self.data.items()},
        )

    @classmethod
    def from_supervision(cls, detections: Any) -> Detections:
        """Build from a ``supervision.Detections`` (missing scores become 1, classes 0)."""
        n = len(detections)
        conf = detections.confidence if detections.confidence is not None else np.ones(n)
        cls_id = detections.class_id if detections.class_id is not None else np.zeros(n)
        data = {
            k: np.asarray(v)
            for k, v in getattr(detections, "data", {}).items()
            if isinstance(v, np.ndarray | list) and len(v) == n
        }
        return cls(
            xyxy=np.asarray(detections.xyxy, np.float32).reshape(-1, 4),
            confidence=conf,
            class_id=cls_id,
            tracker_id=detections.tracker_id,
            mask=detections.mask,
            data=data,
        )

    def __repr__(self) -> str:
        fields = ["xyxy", "confidence", "class_id"]
        fields += [f for f in ("tracker_id", "mask", "keypoints") if getattr(self, f) is not None]
        extra = f", data={sorted(self.data)}" if self.data else ""
        return f"Detections(n={len(self)}, fields={fields}{extra})"
