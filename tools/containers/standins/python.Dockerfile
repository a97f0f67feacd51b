# Stand-in for python:3.11-slim-bookworm, from Debian packages (docs/containers.md says how it differs).
ARG BASE
FROM ${BASE}
# Debian's python3 (3.11.2, /usr/bin/python3): the interpreter the image's venv links to. No pip, no
# compilers: what the runtime needs and nothing else. LANG as the official image sets it.
ENV LANG=C.UTF-8
# Unpinned on purpose: a stand-in takes bookworm's current (security-patched) package, as a
# rebuilt official image would.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 \
    && rm -rf /var/lib/apt/lists/*
CMD ["python3"]
