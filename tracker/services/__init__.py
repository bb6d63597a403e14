"""Use cases. Each public function runs inside the caller's unit of work and only flushes;
the API layer (or the command) commits once per request."""
