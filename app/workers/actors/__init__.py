"""The actor bodies: small async functions taking ids, each calling one use case with
this process's services. The registry (app/workers/registry.py) turns them into Dramatiq
actors with their queues and options."""
