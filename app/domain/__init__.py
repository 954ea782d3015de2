"""Pure domain model: aggregates, events and the rules staff rely on. Standard library only."""
