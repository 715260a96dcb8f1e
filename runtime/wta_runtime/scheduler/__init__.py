"""The scheduler: moves conversations on their timers without waiting for a user message."""
