"""Presentation: narration, figures, the report, the dashboard, explain."""
