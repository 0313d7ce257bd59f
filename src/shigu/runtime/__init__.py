"""Foundation: ONNX Runtime sessions and the model zoo (registry, download, cache, mirror)."""

from shigu.runtime.registry import MODELS, ModelSpec, get_spec
from shigu.runtime.session import OnnxModel, available_providers, resolve_providers
from shigu.runtime.zoo import ModelZoo, list_models, sha256_file, shigu_home

__all__ = [
    "MODELS",
    "ModelSpec",
    "ModelZoo",
    "OnnxModel",
    "available_providers",
    "get_spec",
    "list_models",
    "resolve_providers",
    "sha256_file",
    "shigu_home",
]
