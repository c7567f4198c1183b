"""Customer value: purchase and spend models, lifetime value."""
