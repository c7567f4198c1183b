"""Controlled experiments: designs and assignment, power, and analysis from sufficient
statistics."""
