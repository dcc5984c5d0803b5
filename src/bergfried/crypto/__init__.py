"""Master key, keyed hashes of generated secrets, AES-GCM encryption at rest, argon2id passwords."""
