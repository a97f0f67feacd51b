"""pulumi-aws: one module per AWS service, as the provider groups its types (``aws:<module>/...``)."""
