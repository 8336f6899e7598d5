"""``guarantee-sim-report``: the figures and one self-contained HTML report of results folders.

One module per step: ``load`` (reading sweep, run and study folders), ``plan`` (which cells and
figures, every option checked), ``stamps`` (where the numbers come from), ``figures`` (the figure
set and the tables behind it), ``study`` (a sensitivity study's section), ``markup`` and ``html``
(the page), ``write`` (the files) and ``cli`` (the command).
"""
