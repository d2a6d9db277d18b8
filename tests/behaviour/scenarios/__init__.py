"""The four behavioural scenarios (one module each, with run(ctx))."""
