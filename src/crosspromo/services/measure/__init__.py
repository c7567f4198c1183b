"""Measure: attribution, experiments (stored ones and files of units), customer value, churn
by acquisition source, and partnership KPIs."""
