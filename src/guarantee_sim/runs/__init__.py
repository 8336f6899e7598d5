"""Running, storing and sweeping: replications, the result store, sweeps, the command line."""
