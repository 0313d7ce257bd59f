"""Low-light enhancement: networks (LYT-Net, SCI) and classical baselines, a darkness gate
(``auto``), steady brightness over video, and image-quality metrics."""
