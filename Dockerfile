# sluice container image: built and run on Debian 12, as the project's own install script does.
#   docker build -t sluice .
#   docker run --rm -v /var/log:/var/log:ro sluice tail '/var/log/containers/*.log'
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN bash deploy/dev.sh build && strip build/sluice

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libuv1 libsimdjson14 libzstd1 \
      zlib1g libcurl4 librdkafka1 libonig5 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/sluice /usr/bin/sluice
COPY --from=build /src/deploy/samples /usr/share/sluice/samples
ENV SLUICE_SAMPLES_DIR=/usr/share/sluice/samples
# Fluentd images read /fluentd/etc/fluent.conf; the DaemonSet mounts its ConfigMap there too.
ENTRYPOINT ["/usr/bin/sluice"]
CMD ["-c", "/fluentd/etc/fluent.conf"]
