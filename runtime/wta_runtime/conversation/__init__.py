"""Conversation rules that do not depend on storage: the lifecycle state machine."""
