"""Technology: multi-object trackers (ByteTrack, OC-SORT), Kalman filter, assignment."""

from shigu.track.base import Tracker, TrackState, TrackStore
from shigu.track.bytetrack import ByteTracker, bytetrack_config
from shigu.track.cmc import CameraMotion
from shigu.track.engine import AssociationTracker, TrackerConfig
from shigu.track.factory import DEFAULT, PRESETS, create_tracker
from shigu.track.kalman import BoxKalmanFilter, KalmanConfig, KalmanState
from shigu.track.matching import giou_matrix, iou_matrix, linear_assignment
from shigu.track.ocsort import OCSortTracker, ocsort_config
from shigu.track.reid import ReIDModel

__all__ = [
    "DEFAULT",
    "PRESETS",
    "AssociationTracker",
    "BoxKalmanFilter",
    "ByteTracker",
    "CameraMotion",
    "KalmanConfig",
    "KalmanState",
    "OCSortTracker",
    "ReIDModel",
    "TrackState",
    "TrackStore",
    "Tracker",
    "TrackerConfig",
    "bytetrack_config",
    "create_tracker",
    "giou_matrix",
    "iou_matrix",
    "linear_assignment",
    "ocsort_config",
]
