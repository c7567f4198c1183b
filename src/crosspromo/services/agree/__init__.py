"""Agree: partnerships between two organizations and their lifecycle."""
