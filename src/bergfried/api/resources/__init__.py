"""One module per resource; each declares its calls with `registry.Resource` and is loaded by
`registry.load()` without being listed anywhere."""
