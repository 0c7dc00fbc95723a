"""Presentation: labels, figures, the report and the dashboard."""
