"""From Hydra config to a checked, immutable Scenario: schema, composition, building."""
