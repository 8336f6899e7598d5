"""``python -m guarantee_sim.analysis.sensitivity``: the same as ``guarantee-sim-sensitivity``, as
when the study was one module."""

from guarantee_sim.analysis.sensitivity.cli import main

if __name__ == "__main__":
    main()
