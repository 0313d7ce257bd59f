"""The engine: a YAML config to a running graph of sources, models, trackers, rules and sinks."""

from shigu.pipeline.config import Config, load_config, parse_config
from shigu.pipeline.engine import Pipeline

__all__ = ["Config", "Pipeline", "load_config", "parse_config"]
