"""The only place analytics expressions are executed: DuckDB by default, PostgreSQL, Spark."""
