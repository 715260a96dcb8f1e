"""The runtime worker: consumes a tenant's inbound stream and answers each message."""
