# The kubedora image: one image for both containers of the pod (the operator
# and the receiver sidecar). The wheel is built exactly as `make install`
# builds the package, from pyproject.toml, and only runtime dependencies go in.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
# git: the operator reads repositories' history for lead time.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-index --find-links /wheels kubedora \
    && rm -rf /wheels \
    && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin kubedora
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["kubedora"]
CMD ["operator", "--all-namespaces"]
