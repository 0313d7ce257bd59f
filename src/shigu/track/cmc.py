"""Camera-motion compensation: estimate how the image moved and move the track predictions.

Sparse optical flow (Shi-Tomasi corners tracked with pyramidal Lucas-Kanade) on a downscaled
grey image, fitted with a RANSAC similarity transform, as BoT-SORT's GMC does. For a fixed
camera the transform is the identity and nothing changes.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from shigu.track.kalman import KalmanState


class CameraMotion:
    """Frame-to-frame camera motion as a 2x3 affine, applied to Kalman states.

    Args:
        downscale: estimate on an image this many times smaller (speed).
        max_corners: corners tracked per frame.
    """

    def __init__(self, downscale: float = 2.0, max_corners: int = 600) -> None:
        self.downscale = max(1.0, downscale)
        self.max_corners = max_corners
        self.reset()

    def reset(self) -> None:
        self._prev: npt.NDArray[np.uint8] | None = None
        self._prev_pts: npt.NDArray[np.float32] | None = None

    def _grey(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        if self.downscale > 1:
            h, w = grey.shape[:2]
            grey = cv2.resize(
                grey,
                (int(w / self.downscale), int(h / self.downscale)),
                interpolation=cv2.INTER_AREA,
            )
        return np.asarray(grey, dtype=np.uint8)

    def _corners(self, grey: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32] | None:
        pts = cv2.goodFeaturesToTrack(
            grey,
            maxCorners=self.max_corners,
            qualityLevel=0.01,
            minDistance=1,
            blockSize=3,
            useHarrisDetector=False,
            k=0.04,
        )
        return None if pts is None else pts.astype(np.float32)

    def observe(self, image: npt.NDArray[np.uint8]) -> None:
        """Remember a frame without estimating (the first frame of a video)."""
        grey = self._grey(image)
        self._prev, self._prev_pts = grey, self._corners(grey)

    def estimate(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        """The 2x3 affine mapping the previous frame's pixels to this frame's."""
        grey = self._grey(image)
        warp = np.eye(2, 3)
        prev, prev_pts = self._prev, self._prev_pts
        self._prev, self._prev_pts = grey, self._corners(grey)
        if prev is None or prev_pts is None or len(prev_pts) < 8 or prev.shape != grey.shape:
            return warp
        next_pts, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
            prev, grey, prev_pts, None
        )
        if next_pts is None:
            return warp
        ok = status.reshape(-1) == 1
        if ok.sum() < 8:
            return warp
        found, _ = cv2.estimateAffinePartial2D(prev_pts[ok], next_pts[ok], method=cv2.RANSAC)
        if found is None:
            return warp
        warp = np.asarray(found, dtype=np.float64)
        warp[:, 2] *= self.downscale
        return warp

    def apply(self, image: npt.NDArray[np.uint8], state: KalmanState) -> npt.NDArray[np.float64]:
        """Estimate the motion and move every track's predicted state with it (in place).

        Centres take the full affine; velocities the linear part; widths and heights the
        transform's scale. Covariances scale with the squared scale (rotation between
        frames is tiny, so the coordinate blocks stay independent).
        """
        warp = self.estimate(image)
        if len(state) == 0 or np.allclose(warp, np.eye(2, 3), atol=1e-6):
            return warp
        lin, shift = warp[:, :2], warp[:, 2]
        mean = state.mean
        mean[:, 0:2] = mean[:, 0:2] @ lin.T + shift
        mean[:, 4:6] = mean[:, 4:6] @ lin.T
        scale = float(np.sqrt(abs(np.linalg.det(lin))))
        mean[:, 2:4] *= scale
        mean[:, 6:8] *= scale
        state.data[8:20] *= scale * scale
        return warp
