"""guarantee_sim: an exploratory agent-based model of post-ceasefire security guarantees for Ukraine."""
