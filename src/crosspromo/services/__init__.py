"""Use cases: each loads from the store, calls domain/analytics code, and saves."""
