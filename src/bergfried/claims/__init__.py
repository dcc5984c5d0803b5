"""Which claim goes where: the scopes that ask for claims, the subject they describe, and the one
assembler that builds every response's user claims."""
