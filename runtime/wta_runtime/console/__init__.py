"""The staff console: the web pages people use to take over conversations (`/console`)."""
