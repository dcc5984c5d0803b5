"""Tokens: issuing access, refresh and ID tokens; finding them again by their hashes."""
