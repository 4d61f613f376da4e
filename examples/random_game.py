"""A random-action episode of any scenario, rendered turn by turn: python examples/random_game.py classroom"""

import sys

from reassurance.envs import coalition_v0

env = coalition_v0.parallel_env(
    scenario=sys.argv[1] if len(sys.argv) > 1 else "classroom", render_mode="human"
)
obs, infos = env.reset(seed=int(sys.argv[2]) if len(sys.argv) > 2 else 0)
while env.agents:
    obs, rewards, terms, truncs, infos = env.step(
        {a: env.action_space(a).sample(mask=obs[a]["action_mask"]) for a in env.agents}
    )
print(infos["usa"]["episode_summary"])
