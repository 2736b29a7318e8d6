# versitygw (the Versity S3 Gateway) at the version the S3 tests pin
# (tools/versitygw), as an S3 server for the compose cluster. Same context
# as the flint image (deploy/build-images.sh); the posix backend keeps one
# folder per bucket under /data (mount a volume there).
FROM scratch
COPY passwd group /etc/
COPY --chown=10001:10001 work /data
COPY versitygw /versitygw
ENV HOME=/data
WORKDIR /data
USER 10001
ENTRYPOINT ["/versitygw"]
