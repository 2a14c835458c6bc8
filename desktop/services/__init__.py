"""Use cases with their transaction boundaries. No Qt."""
