"""The stack: settings read from Pulumi config, and the wiring of components into one program."""
