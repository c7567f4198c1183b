"""The CSV and Parquet files users hand in and take out, for every stage's imports."""
