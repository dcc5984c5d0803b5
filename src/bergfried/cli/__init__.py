"""The `bergfried` command (typer)."""
