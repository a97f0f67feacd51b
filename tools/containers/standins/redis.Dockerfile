# Stand-in for redis:7.2-bookworm, from Debian's redis-server (7.0 on bookworm): for compose only.
ARG BASE
FROM ${BASE}
# Unpinned on purpose: a stand-in takes bookworm's current (security-patched) package, as a
# rebuilt official image would.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
COPY redis-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# As the official image: data in /data (a volume), the server in the foreground as user redis.
VOLUME ["/data"]
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
