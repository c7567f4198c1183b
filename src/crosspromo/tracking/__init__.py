"""The hot path: redirects, durable click logging, and (later) conversion ingestion."""
