"""The hosted login (ZITADEL's v1 login UI at `/ui/login`): pages, forms, sessions per browser."""
