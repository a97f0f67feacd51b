"""Repository tools: container bases, image and compose tests, the newcomer check."""
