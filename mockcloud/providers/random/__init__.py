"""pulumi-random."""
