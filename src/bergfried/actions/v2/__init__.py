"""Actions v2: targets (restWebhook, restCall, restAsync) and executions on functions."""
