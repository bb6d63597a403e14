"""What the API and the pages share about HTTP: problem documents, input hygiene, rate limits, caching."""
