"""The classroom dashboard (``guarantee-sim-dashboard``): one run told step by step, a batch of
runs with its probabilities filling in, two designs side by side on one seed, and an explorer of
a sweep's results. ``present/app.py`` puts these pages together."""
