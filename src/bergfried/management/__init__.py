"""Business operations of the management API as plain functions over a `Tx` or a connection, so
that the HTTP handlers and `bergfried apply` run the same code."""
