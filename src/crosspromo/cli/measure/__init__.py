"""Measure: attribution, experiments, and customers (value, churn, KPIs by acquisition source);
one module each, like the stage's services."""
