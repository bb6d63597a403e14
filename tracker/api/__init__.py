"""The HTTP API under ``/api/v1``: one blueprint per resource, thin over the services."""
