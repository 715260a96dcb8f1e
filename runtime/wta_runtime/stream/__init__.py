"""The JetStream side of the data path: names, payloads and stream set-up."""
