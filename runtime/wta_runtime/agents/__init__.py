"""AI agents: the provider interface, the offline provider and the OpenAI-compatible one."""
