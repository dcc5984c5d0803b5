"""The domain in ZITADEL's words: plain typed classes and pure rules. No I/O, no SQL."""
