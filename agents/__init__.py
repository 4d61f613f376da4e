"""Policies for every role (heuristic doctrines, random, checkpoints, human play): not built yet."""
