# The pipeline image with no base image at all, so that it builds where no registry can be
# reached: `npx spillway images build` fills rootfs/ with the pinned Node binary, the shared
# libraries ldd lists for it, and the project files the components need (pipeline/, the fault
# proxy, their production node_modules). One image runs every component: the command names it.
FROM scratch
ARG SPILLWAY_IMAGE_HASH
LABEL spillway.image-hash=$SPILLWAY_IMAGE_HASH
COPY rootfs/ /
WORKDIR /app
# The memory cap of a container is the kernel's (its cgroup limit): V8 must not stop the heap
# first at a limit of its own derived from that cap.
ENV NODE_OPTIONS=--max-old-space-size=16384
ENTRYPOINT ["/usr/local/bin/node"]
CMD ["/app/pipeline/host/main.ts", "--help"]
