"""Low-altitude (drone) vision: flight telemetry, ground positions of what the camera sees."""
