"""Pulumi entry point: read and validate the stack settings, build the platform, export its outputs."""

from stack.program import main

main()
