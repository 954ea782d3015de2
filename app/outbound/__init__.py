"""The outbound event stream: the relay that publishes the store's events to a Redis stream
for other systems, and an example consumer of it. See docs/relay.md."""
