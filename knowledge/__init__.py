"""The district plan as validated data, and the query engine that answers questions about it."""
