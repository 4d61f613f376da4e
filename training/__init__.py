"""RL training on Ray RLlib: not built yet."""
