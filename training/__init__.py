"""RL training on Ray RLlib (new API stack): multi-agent PPO with masked MultiDiscrete modules,
fixed and league opponents, checkpoints, resume and Tune sweeps.

The ``reassurance train`` and ``reassurance sweep`` commands drive :func:`run.train` and
:func:`sweep.sweep`; settings live in ``configs/training/`` (:mod:`.config`). Importing this
package imports nothing heavy; Ray loads with the submodules that need it.
"""
