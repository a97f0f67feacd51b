# Stand-in for ghcr.io/astral-sh/uv:<version>: the same static binaries at the same paths, taken from
# uv's PyPI wheel (tools/containers/bases.py downloads it and checks its sha256 against PyPI's index).
FROM scratch
COPY uv uvx /
ENTRYPOINT ["/uv"]
