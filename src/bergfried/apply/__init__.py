"""`bergfried apply -f world.yaml`: a declared world (organizations, projects, roles,
applications, users, metadata, grants) made true in one transaction.

`schema` reads the file, `current` reads the database, `plan` compares them into actions,
`execute` runs the actions in one write transaction (all or nothing) and hands out new client
secrets once.
"""
