"""The model and its rules: agents, components, breach patterns, triggers, the event record."""
