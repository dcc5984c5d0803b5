"""The protocol, one module per spec: typed requests in, results or errors out; no web framework,
no settings, no environment (the web layer passes in what a rule needs)."""
