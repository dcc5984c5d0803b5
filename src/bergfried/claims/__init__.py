"""Which claim goes where: seed 003's matrix as data (`matrix.py`), the one assembler that reads it
(`assemble.py`), the values (`values.py`, `roles.py`) and `explain.py`, which shows its decisions."""
