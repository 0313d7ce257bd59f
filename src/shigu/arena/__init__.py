"""The challenge arena: competitions scored automatically by Shigu's evaluators, judged by
expert panels, with leaderboards and awards (see docs/arena.md)."""
