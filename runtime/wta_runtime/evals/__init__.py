"""Golden conversations run against agents (`wta eval`)."""
