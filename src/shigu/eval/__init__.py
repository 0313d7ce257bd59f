"""Evaluation: detection (COCO mAP), tracking (HOTA/MOTA/IDF1), anomaly, image quality."""
