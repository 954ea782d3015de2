"""The read side: queries that pages call."""
