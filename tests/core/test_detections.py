import json

import numpy as np
import pytest

from shigu.core import Detections, InputError


def make(n: int = 3, tracked: bool = False) -> Detections:
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 100, (n, 2))
    wh = rng.uniform(5, 50, (n, 2))
    return Detections(
        xyxy=np.hstack([xy, xy + wh]).astype(np.float32),
        confidence=np.linspace(0.9, 0.3, n),
        class_id=np.arange(n) % 2,
        tracker_id=np.arange(10, 10 + n) if tracked else None,
        data={"embedding": rng.normal(size=(n, 4)).astype(np.float32)},
    )


@pytest.mark.parametrize("n", [0, 1, 5])
def test_lengths_and_dtypes(n: int) -> None:
    d = make(n)
    assert len(d) == n
    assert d.xyxy.dtype == np.float32 and d.xyxy.shape == (n, 4)
    assert d.confidence.dtype == np.float32
    assert d.class_id.dtype == np.int32


def test_empty() -> None:
    e = Detections.empty()
    assert len(e) == 0 and e.xyxy.shape == (0, 4)
    assert Detections.empty(with_tracker_id=True).tracker_id is not None


def test_mismatched_rows_rejected() -> None:
    with pytest.raises(InputError, match="confidence has 2 rows"):
        Detections(np.zeros((3, 4)), np.zeros(2), np.zeros(3))
    with pytest.raises(InputError, match="shape"):
        Detections(np.zeros((3, 5)), np.zeros(3), np.zeros(3))
    with pytest.raises(InputError, match="data"):
        Detections(np.zeros((3, 4)), np.zeros(3), np.zeros(3), data={"x": np.zeros(2)})


def test_boolean_index_slice_and_int() -> None:
    d = make(5, tracked=True)
    sub = d[d.confidence > 0.5]
    assert len(sub) == int((d.confidence > 0.5).sum())
    assert np.array_equal(sub.tracker_id, d.tracker_id[d.confidence > 0.5])
    assert sub.data["embedding"].shape == (len(sub), 4)
    assert np.array_equal(d[[4, 0]].tracker_id, [14, 10])
    assert len(d[1:3]) == 2
    one = d[2]
    assert len(one) == 1 and one.tracker_id.tolist() == [12]
    with pytest.raises(InputError, match="boolean index"):
        d[np.array([True, False])]


def test_filter_by_class_confidence_area() -> None:
    d = make(6)
    assert set(d.filter(classes=[1]).class_id.tolist()) == {1}
    assert (d.filter(min_confidence=0.5).confidence >= 0.5).all()
    area = d.area
    mid = float(np.median(area))
    assert (d.filter(min_area=mid).area >= mid).all()
    assert (d.filter(max_area=mid).area <= mid).all()
    assert d.filter() is d


def test_merge_keeps_common_fields() -> None:
    a, b = make(2, tracked=True), make(3, tracked=False)
    m = Detections.merge([a, b])
    assert len(m) == 5
    assert m.tracker_id is None  # not every part had ids
    assert m.data["embedding"].shape == (5, 4)
    assert len(Detections.merge([])) == 0
    assert len(Detections.merge([Detections.empty(), a])) == 2


def test_anchors() -> None:
    d = Detections(np.array([[0, 0, 10, 20]], np.float32), [1.0], [0])
    assert d.anchors("bottom_center").tolist() == [[5, 20]]
    assert d.anchors("center").tolist() == [[5, 10]]
    with pytest.raises(InputError):
        d.anchors("middle")  # type: ignore[arg-type]


def test_json_round_trip() -> None:
    d = make(4, tracked=True)
    d.keypoints = np.arange(4 * 5 * 2, dtype=np.float32).reshape(4, 5, 2)
    records = d.to_records(class_names=["person", "car"])
    text = json.dumps(records)
    back = Detections.from_records(json.loads(text))
    assert back.equals(d, atol=0.01)
    assert records[1]["class_name"] == "car"
    assert np.allclose(back.keypoints, d.keypoints)
    assert np.allclose(back.data["embedding"], d.data["embedding"], atol=1e-6)
    assert len(Detections.from_records([])) == 0
    with pytest.raises(InputError):
        Detections.from_records([{"confidence": 1}])


def test_supervision_round_trip() -> None:
    sv = pytest.importorskip("supervision")
    d = make(3, tracked=True)
    s = d.to_supervision()
    assert isinstance(s, sv.Detections)
    assert np.allclose(s.xyxy, d.xyxy)
    back = Detections.from_supervision(s)
    assert back.equals(d)
    assert np.allclose(back.data["embedding"], d.data["embedding"])


def test_iteration_yields_rows() -> None:
    d = make(3)
    rows = list(d)
    assert [len(r) for r in rows] == [1, 1, 1]
    assert rows[2].class_id.tolist() == [d.class_id[2]]


def test_records_leave_out_rows_with_nothing_known() -> None:
    """A secondary model's NaN rows (no pose for that object) are not written as NaN."""
    import json

    pose = np.full((2, 17, 3), np.nan, np.float32)
    pose[0] = 1.5
    d = Detections(np.array([[0, 0, 10, 10], [5, 5, 9, 9]], np.float32), np.array([0.9, 0.8]),
                   np.array([0, 0]), data={"pose": pose})  # fmt: skip
    a, b = d.to_records(["person"])
    assert np.array(a["pose"]).shape == (17, 3) and "pose" not in b
    json.dumps([a, b], allow_nan=False)  # valid JSON: no NaN anywhere
