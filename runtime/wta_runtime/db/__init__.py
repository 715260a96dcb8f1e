"""PostgreSQL persistence: tables, engine and the queries each step of the data path needs."""
