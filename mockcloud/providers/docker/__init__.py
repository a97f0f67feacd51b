"""pulumi-docker."""
