"""Code that runs in AWS Lambda, shipped by the components that create the functions.

Each module is a self-contained handler: it imports only the standard library and botocore (which
every Lambda Python runtime includes), never the project, because only the one file is uploaded.
"""
