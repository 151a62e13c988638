"""Routing scenarios: the YAML model, its loader, schedules and holidays, and the interpreter."""
