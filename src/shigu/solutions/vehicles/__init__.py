"""Intelligent connected vehicles: licence plates, roadside perception messages."""
