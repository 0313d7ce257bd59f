"""Human pose: top-down keypoint models on person boxes, skeleton layouts, drawing."""

from shigu.pose.crops import SquareCrop
from shigu.pose.models import BlazePose, MoveNet, PoseModel, Poses, load_pose_model
from shigu.pose.skeleton import BLAZEPOSE_KEYPOINTS, COCO_KEYPOINTS, COCO_SKELETON

__all__ = [
    "BLAZEPOSE_KEYPOINTS",
    "COCO_KEYPOINTS",
    "COCO_SKELETON",
    "BlazePose",
    "MoveNet",
    "PoseModel",
    "Poses",
    "SquareCrop",
    "load_pose_model",
]
