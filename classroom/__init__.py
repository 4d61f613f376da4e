"""A classroom in the browser: students take seats, bots play the rest, a teacher facilitates.

``reassurance classroom`` starts the web app (:mod:`reassurance.classroom.app`) on
127.0.0.1:8765. The pieces below it are plain Python and usable on their own:

- :mod:`~reassurance.classroom.engine`: one game, its bots and the turn loop;
- :mod:`~reassurance.classroom.store`: SQLite, each turn committed before it is announced;
- :mod:`~reassurance.classroom.seatview`: what one seat sees, from its own observation only;
- :mod:`~reassurance.classroom.events`: the events a facilitator can inject;
- :mod:`~reassurance.classroom.debrief`: the debrief and the simulated games it compares with;
- :mod:`~reassurance.classroom.replay`: self-contained HTML replays of any finished game.
"""
