"""``python -m guarantee_sim.present.report``: the same as ``guarantee-sim-report``, as when the
report was one module."""

from guarantee_sim.present.report.cli import main

if __name__ == "__main__":
    main()
