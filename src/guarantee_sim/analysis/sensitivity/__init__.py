"""``guarantee-sim-sensitivity``: which assumptions drive the answer, and where support fails.

One module per step of a study: ``schema`` (the study block of the config), ``levers`` (the
continuous levers and their ranges), ``sampling`` (the Sobol' or Latin hypercube design),
``evaluate`` (the model at the sample points), ``indices`` (Sobol' indices with bootstrap
intervals), ``study`` (one study from a composed config), ``result`` (the finished study as typed
data, ``study_result.json``), ``text`` (the study in words: summary and Markdown), ``write`` (the
study folder) and ``cli`` (the command). The method is in docs/sensitivity.md.
"""
