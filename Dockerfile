# boostbox: SageMaker bring-your-own-container image for XGBoost (train + serve).
# Build:  docker build --network host -t boostbox .
# Run:    docker run IMAGE train | docker run IMAGE serve

# --- build stage: compilers live here only ---------------------------------------------
FROM debian:trixie-slim AS build
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends python3 python3-venv python3-dev gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Every dependency pinned with hashes; sagemaker-training's C extension compiles here.
RUN /opt/venv/bin/pip install -q --no-cache-dir --require-hashes -r /tmp/requirements.lock \
 && find /opt/venv -depth -type d \( -name tests -o -name testing \) \
      -path '*site-packages/*' ! -path '*/numpy/testing' ! -path '*/pandas/_testing' \
      ! -path '*/pandas/testing' -exec rm -rf {} + \
 && find /opt/venv -name '*.pyx' -delete -o -name '*.pxd' -delete -o -name '*.a' -delete \
 && rm -rf /opt/venv/lib/python3*/site-packages/pyarrow/include \
 && site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && echo /opt/boostbox > "$site/boostbox.pth" \
 && for verb in train serve; do \
      printf '#!/opt/venv/bin/python\nfrom boostbox.__main__ import main\nmain(["%s"])\n' "$verb" \
        > "/opt/venv/bin/$verb" && chmod 755 "/opt/venv/bin/$verb"; \
    done \
 && /opt/venv/bin/python -m compileall -q -j 0 /opt/venv/lib >/dev/null

# --- runtime stage ----------------------------------------------------------------------
FROM debian:trixie-slim
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends python3 libgomp1 \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
COPY --from=build /opt/venv /opt/venv
COPY container/boostbox /opt/boostbox/boostbox
RUN /opt/venv/bin/python -m compileall -q /opt/boostbox >/dev/null
# SageMaker runs containers as root and mounts /opt/ml root-owned, so train/serve stay root;
# the `boostbox` user is there for `docker run --user boostbox IMAGE serve` outside SageMaker.
RUN useradd --system --no-create-home --shell /usr/sbin/nologin boostbox
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true \
      org.opencontainers.image.title=boostbox
EXPOSE 8080
ENTRYPOINT ["/opt/venv/bin/python", "-m", "boostbox"]
CMD ["train"]
