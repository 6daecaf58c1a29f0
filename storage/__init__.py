"""SQLite storage: one connection manager, numbered migrations, repositories."""
