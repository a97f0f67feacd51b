"""Product-catalog HTTP service: PostgreSQL behind a Redis/ElastiCache cache."""

__version__ = "0.1.0"
