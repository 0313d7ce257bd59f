"""The model registry: every named model, where to get it, how to check it, how to feed it."""

from __future__ import annotations

from dataclasses import dataclass, field

from shigu.core.errors import ModelError


@dataclass(frozen=True)
class ModelSpec:
    """Everything Shigu needs to fetch, verify and run one named model.

    Attributes:
        name: registry name users type (``yolox-nano``).
        format: decoder that reads its outputs (``yolox``, ``nanodet``, ``yolov8``, ``yunet``,
            ``reid``, ``plate-crnn``, ``movenet``, ``blazepose``).
        filename: file name in the cache and in mirrors.
        urls: official download URLs, tried in order.
        sha256: verified checksum, or None when it is pinned on first download instead.
        licence: licence of the weights.
        input_size: (width, height) the network takes.
        labels: label-set name (see ``shigu.core.labels``).
        description: one line for ``shigu models list``.
        size_bytes: expected size, for progress bars (0 when unknown).
        default_conf: the score threshold a detector uses when none is given, from the
            model's own reference (OpenCV's YuNet demo uses 0.9; YOLOX/NanoDet 0.25).
    """

    name: str
    format: str
    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    licence: str
    input_size: tuple[int, int]
    labels: str
    description: str
    size_bytes: int = 0
    preprocess: dict[str, object] = field(default_factory=dict)
    default_conf: float = 0.25

    @property
    def verified(self) -> bool:
        return self.sha256 is not None


_YOLOX_RELEASE = "https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/"
_KAZ_MOT = (
    "https://raw.githubusercontent.com/Kazuhito00/MOT-Tracking-by-Detection-Pipeline/"
    "16cf07242fc295317201419bc76c236705655171/"
)

_LYT = "https://raw.githubusercontent.com/Kazuhito00/LYT-Net-ONNX-Sample/main/model/"
_SCI = "https://raw.githubusercontent.com/Kazuhito00/SCI-ONNX-Sample/main/model/"
_HYPERLPR = "https://raw.githubusercontent.com/szad670401/HyperLPR/master/resource/models/onnx/"

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="yolox-nano",
            format="yolox",
            filename="yolox_nano.onnx",
            urls=(
                _YOLOX_RELEASE + "yolox_nano.onnx",
                "https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/"
                "ac07155e3ac8a531d89d24204e50f364d3444275/model/yolox_nano.onnx",
            ),
            sha256="695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14",
            licence="Apache-2.0 (Megvii YOLOX)",
            input_size=(416, 416),
            labels="coco80",
            description="YOLOX-Nano, COCO 80 classes, 0.91M params, 25.8 mAP",
            size_bytes=3660092,
        ),
        ModelSpec(
            name="yolox-tiny",
            format="yolox",
            filename="yolox_tiny.onnx",
            urls=(_YOLOX_RELEASE + "yolox_tiny.onnx",),
            sha256=None,
            licence="Apache-2.0 (Megvii YOLOX)",
            input_size=(416, 416),
            labels="coco80",
            description="YOLOX-Tiny, COCO 80 classes, 5.06M params, 32.8 mAP",
        ),
        ModelSpec(
            name="yolox-s",
            format="yolox",
            filename="yolox_s.onnx",
            urls=(_YOLOX_RELEASE + "yolox_s.onnx",),
            sha256=None,
            licence="Apache-2.0 (Megvii YOLOX)",
            input_size=(640, 640),
            labels="coco80",
            description="YOLOX-S, COCO 80 classes, 9.0M params, 40.5 mAP",
        ),
        ModelSpec(
            name="yolox-m",
            format="yolox",
            filename="yolox_m.onnx",
            urls=(_YOLOX_RELEASE + "yolox_m.onnx",),
            sha256=None,
            licence="Apache-2.0 (Megvii YOLOX)",
            input_size=(640, 640),
            labels="coco80",
            description="YOLOX-M, COCO 80 classes, 25.3M params, 47.2 mAP",
        ),
        ModelSpec(
            name="nanodet-m",
            format="nanodet",
            filename="nanodet_m_320.onnx",
            urls=(_KAZ_MOT + "Detector/nanodet/model/nanodet_m_320.onnx",),
            sha256="88e9fb97a54bb0030127ad323a10f88b4531b6aa82617e7ef79e35ffcc9bb3e1",
            licence="Apache-2.0 (RangiLyu NanoDet)",
            input_size=(320, 320),
            labels="coco80",
            description="NanoDet-m 320, COCO 80 classes, GFL heads, 0.95M params",
            size_bytes=3802801,
        ),
        ModelSpec(
            name="yunet-face",
            format="yunet",
            filename="face_detection_yunet_2023mar.onnx",
            urls=(
                "https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/"
                "face_detection_yunet_2023mar.onnx",
                "https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/"
                "147357457766555aeaa81fe5501f081fe1c8e12e/onnx/yunet_s_640_640.onnx",
            ),
            sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            default_conf=0.9,  # OpenCV's face_detection_yunet demo: score_threshold 0.9
            licence="MIT (opencv_zoo) / Apache-2.0 (libfacedetection.train)",
            input_size=(640, 640),
            labels="face",
            description="YuNet face detector with 5 landmarks (2023mar)",
            size_bytes=232589,
        ),
        ModelSpec(
            name="light-person",
            format="yolox",
            filename="light_person_detector_192.onnx",
            urls=(_KAZ_MOT + "Detector/light_person_detector/model/model.onnx",),
            sha256="4bf5f704cd3bd900645a4303e0934ede13d9fb2135058b38005f4c2886c68576",
            licence="Apache-2.0 (Kazuhito00 light person detector)",
            input_size=(192, 192),
            labels="person",
            description="Tiny YOLOX-style person detector, 192x192",
            size_bytes=3616703,
        ),
        ModelSpec(
            name="person-reid-0288",
            format="reid",
            filename="person-reidentification-retail-0288.onnx",
            urls=(
                "https://raw.githubusercontent.com/Kazuhito00/MOT-Tracking-by-Detection-Pipeline/"
                "181787ca9b232eaf4a7327deb2e93d8fc8e1885c/Tracker/person_reid/model/"
                "person-reidentification-retail-0288.onnx",
            ),
            sha256="f3966d905e7232026aa8b814c328231a7b45c5b6b4dd32f886894223c4441b80",
            licence="Apache-2.0 (Intel Open Model Zoo)",
            input_size=(128, 256),
            labels="person",
            description="Person re-identification embedding (256-d), Intel OMZ retail-0288",
            size_bytes=813323,
        ),
        ModelSpec(
            name="mobilefacenet",
            format="face-embed",
            filename="mobilefacenet.onnx",
            urls=(
                "https://raw.githubusercontent.com/foamliu/MobileFaceNet/"
                "a6cc9032/weights/MobileFaceNet.onnx",
            ),
            sha256="b7120c095d60094f28a4a54ba6a8bf51b297a6273fb40ef6350dfec1f63d9507",
            licence="Apache-2.0 (foamliu/MobileFaceNet); trained on MS-Celeb-1M (research use)",
            input_size=(112, 112),
            labels="face",
            description="MobileFaceNet face embedding (128-d) on ArcFace-aligned 112x112 crops",
            size_bytes=3998070,
        ),
        ModelSpec(
            name="plate-rec-color",
            format="plate-crnn",
            filename="plate_rec_color.onnx",
            urls=(
                "https://raw.githubusercontent.com/zhang-jiaqi-1207/plate-rec-color/"
                "38f78611a48e3110d776bb866ef34413e3825cf9/weights/plate_rec_color.onnx",
            ),
            sha256="4fbd2cd6d14406fc8f5d6eef043fe670f1ee35749a7baa36e24ab41d2ca23490",
            licence="unknown (licence not verified; evaluation only)",
            input_size=(168, 48),
            labels="plate",
            description="Chinese licence plate CRNN (characters + colour)",
            size_bytes=788330,
        ),
        ModelSpec(
            name="plate-detect-320",
            format="plate-yolo5face",
            filename="y5fu_320x_sim.onnx",
            urls=(_HYPERLPR + "y5fu_320x_sim.onnx",),
            sha256="2a985dc63a5cc947ec36d18503d6fc0fd54525b9dba17f2fe29a71e86b44456d",
            licence="Apache-2.0 (HyperLPR3)",
            input_size=(320, 320),
            labels="plate",
            description="HyperLPR3 plate detector: box, 4 corners, single/double row (320)",
            size_bytes=2343161,
        ),
        ModelSpec(
            name="plate-detect-640",
            format="plate-yolo5face",
            filename="y5fu_640x_sim.onnx",
            urls=(_HYPERLPR + "y5fu_640x_sim.onnx",),
            sha256="0306de937471b87f56eb3f5620815e7e7058f8ab7428e0734fc64627cc4d716c",
            licence="Apache-2.0 (HyperLPR3)",
            input_size=(640, 640),
            labels="plate",
            description="HyperLPR3 plate detector at 640, for small plates",
            size_bytes=3930791,
        ),
        ModelSpec(
            name="plate-color-cls",
            format="plate-cls",
            filename="litemodel_cls_96x_r1.onnx",
            urls=(_HYPERLPR + "litemodel_cls_96x_r1.onnx",),
            sha256="fe123688d3bf08b9ef029fcd57f3ac4644ac2e5ef8b9e7a676aacd5fad152142",
            licence="Apache-2.0 (HyperLPR3)",
            input_size=(96, 96),
            labels="plate",
            description="HyperLPR3 plate colour classifier (blue, green, yellow)",
            size_bytes=1604473,
        ),
        ModelSpec(
            name="lyt-net-lolv1",
            format="lowlight-lyt",
            filename="lyt_net_lolv1_640x360.onnx",
            urls=(_LYT + "lyt_net_lolv1_640x360.onnx",),
            sha256="48d8af0bd7007f944cbd8c9660fc5968d00247ce9829a0e8c36412d859275d11",
            licence="MIT (LYT-Net; ONNX by Kazuhito00)",
            input_size=(640, 360),
            labels="none",
            description="LYT-Net low-light enhancement, LOL-v1 weights, 640x360",
            size_bytes=302838,
        ),
        ModelSpec(
            name="lyt-net-lolv2-320",
            format="lowlight-lyt",
            filename="lyt_net_lolv2_real_320x240.onnx",
            urls=(_LYT + "lyt_net_lolv2_real_320x240.onnx",),
            sha256="47e523bc49ade7a0fd2bae765ef0dd603e4524d2191bb6a9d8974b93c83e3f94",
            licence="MIT (LYT-Net; ONNX by Kazuhito00)",
            input_size=(320, 240),
            labels="none",
            description="LYT-Net low-light enhancement, LOL-v2 real weights, 320x240 (fast)",
            size_bytes=304152,
        ),
        ModelSpec(
            name="sci-medium",
            format="lowlight-sci",
            filename="sci_medium_512x512.onnx",
            urls=(_SCI + "sci_medium_512x512.onnx",),
            sha256="01371b63fda08c9c52131d7ba8f897346c7842bec28bcc25f22ca542df224348",
            licence="MIT repo; upstream SCI weights unlicensed (evaluation only)",
            input_size=(512, 512),
            labels="none",
            description="SCI low-light enhancement (fully convolutional), medium weights",
            size_bytes=54613,
        ),
        ModelSpec(
            name="movenet-lightning",
            format="movenet",
            filename="movenet_singlepose_lightning.onnx",
            # Converted from Google's TFLite release (tf2onnx --dequantize); no ONNX is
            # published upstream, so this model comes from a mirror (SHIGU_MODEL_MIRROR).
            urls=(),
            sha256="a0244e6bc968f2326e06554735d869973ff7cc52944263a40c98c0720c0fb5e5",
            licence="Apache-2.0 (Google MoveNet)",
            input_size=(192, 192),
            labels="coco17-keypoints",
            description="MoveNet SinglePose Lightning v4: COCO-17 keypoints on a person crop",
            size_bytes=9427267,
        ),
        ModelSpec(
            name="blazepose-full",
            format="blazepose",
            filename="blazepose_landmark_full.onnx",
            # MediaPipe 0.10.21's pose_landmark_full.tflite converted with tf2onnx; mirror only.
            urls=(),
            sha256="d91ac34fc6fe204871b125a0c9117e4253babfb72338e611890b29b942d5fadc",
            licence="Apache-2.0 (Google MediaPipe)",
            input_size=(256, 256),
            labels="blazepose33",
            description="BlazePose GHUM full: 33 landmarks + 3D world landmarks on a person crop",
            size_bytes=12765338,
        ),
    ]
}


def get_spec(name: str) -> ModelSpec:
    """The registry entry for ``name``; an unknown name lists the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        close = [n for n in MODELS if name.split("-")[0] in n]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ModelError(
            f"unknown model {name!r}",
            f"{hint}known models: {', '.join(MODELS)} (or pass a .onnx path with --format)",
        ) from None
