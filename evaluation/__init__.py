"""Evaluation tournaments, ratings and reports: not built yet."""
