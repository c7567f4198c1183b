"""crosspromo: an open-source platform for cross-promotion between businesses."""

__version__ = "0.1.0"
