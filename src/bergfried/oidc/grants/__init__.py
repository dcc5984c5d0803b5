"""One module per grant type of the token endpoint; shared steps in `_common.py`."""
