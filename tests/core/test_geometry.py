import cv2
import numpy as np
import pytest

from shigu.core.geometry import (
    anchors,
    apply_homography,
    homography,
    points_in_polygon,
    polygon_problem,
    segments_intersect,
    side_of_line,
)


def test_polygon_problems() -> None:
    assert polygon_problem([[0, 0], [10, 0], [10, 10], [0, 10]]) is None
    assert "intersects itself" in (polygon_problem([[0, 0], [10, 0], [0, 10], [10, 10]]) or "")
    assert "at least 3" in (polygon_problem([[0, 0], [1, 1]]) or "")
    assert "zero area" in (polygon_problem([[0, 0], [5, 5], [10, 10]]) or "")


def test_points_in_polygon_and_anchors() -> None:
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    inside = points_in_polygon([[5, 5], [15, 5], [-1, 3], [9.9, 9.9]], square)
    assert inside.tolist() == [True, False, False, True]
    np.testing.assert_allclose(anchors([[0, 0, 10, 20]]), [[5, 20]])
    np.testing.assert_allclose(anchors([[0, 0, 10, 20]], "center"), [[5, 10]])


def test_side_is_positive_on_the_right_of_travel_in_image_coordinates() -> None:
    # travelling east (left to right), y grows downwards: the right-hand side is below
    assert side_of_line([[5, 3]], (0, 0), (10, 0))[0] > 0
    assert side_of_line([[5, -3]], (0, 0), (10, 0))[0] < 0
    assert segments_intersect((5, -1), (5, 1), (0, 0), (10, 0))
    assert not segments_intersect((15, -1), (15, 1), (0, 0), (10, 0))


def test_homography_matches_opencv_and_rejects_degenerate_points() -> None:
    src = [[0, 0], [100, 0], [110, 60], [-5, 50]]
    dst = [[0, 0], [10, 0], [10, 5], [0, 5]]
    h = homography(src, dst)
    ref = cv2.getPerspectiveTransform(np.float32(src), np.float32(dst))
    np.testing.assert_allclose(h, ref, atol=1e-6)
    np.testing.assert_allclose(apply_homography(h, src), dst, atol=1e-6)
    with pytest.raises(ValueError):
        homography([[0, 0], [1, 1], [2, 2], [3, 3]], dst)
