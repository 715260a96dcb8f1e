"""Where the runtime may connect on a tenant's behalf: public addresses, plus what the platform
allows (`WTA_EGRESS_ALLOW`), checked on every connection with the checked address pinned."""
