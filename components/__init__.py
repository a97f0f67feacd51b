"""Pulumi ComponentResources, one per file: each owns one area of the platform."""
