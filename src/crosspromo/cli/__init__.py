"""The `crosspromo` command line."""
