"""The warehouse: pseudonymised facts, loaded atomically per delivery (DuckDB by default)."""
