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
# --no-deps: the lock deliberately omits sagemaker-training's MPI/SSH and gevent dependencies
# (paramiko, psutil, gevent...); boostbox imports only its errors, record_pb2 and mapping.
RUN /opt/venv/bin/pip install -q --no-cache-dir --no-deps --require-hashes -r /tmp/requirements.lock
# Trim what never runs here: test suites, Cython sources, static libs, pyarrow's Flight
# and S3 libraries (parquet reading needs none of them), and every AWS service model but
# S3 and STS (script mode's s3:// submit directory; the models are 28 of botocore's 30 MB).
# pip stays: script mode installs requirements.txt, and SDK v3's sm_train.sh needs pip.
# One command per RUN, so a failing build names the command that failed.
RUN /opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > /opt/venv/.site
RUN find "$(cat /opt/venv/.site)" -depth -type d -name tests -exec rm -rf {} +
RUN find "$(cat /opt/venv/.site)" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.a' \) -delete
RUN site="$(cat /opt/venv/.site)" \
 && rm -rf "$site"/pyarrow/include "$site"/pyarrow/src \
      "$site"/pyarrow/libarrow_flight.so* "$site"/pyarrow/_flight.* \
      "$site"/pyarrow/libarrow_s3.so* "$site"/pyarrow/_s3fs.*
RUN site="$(cat /opt/venv/.site)" \
 && find "$site"/botocore/data "$site"/boto3/data -mindepth 1 -maxdepth 1 -type d \
      ! -name s3 ! -name sts -exec rm -rf {} +
RUN echo /opt/boostbox > "$(cat /opt/venv/.site)/boostbox.pth"
# `train` and `serve` on PATH run boostbox's entry (flush, then the decided exit status).
RUN for verb in train serve; do \
      printf '#!/opt/venv/bin/python\nfrom boostbox.__main__ import main\nmain(["%s"])\n' "$verb" \
        > "/opt/venv/bin/$verb" && chmod 755 "/opt/venv/bin/$verb"; \
    done
RUN /opt/venv/bin/python -m compileall -q -j 0 "$(cat /opt/venv/.site)" >/dev/null
# Import check: every runtime module, and a Parquet round trip read the way boostbox reads
# (ParquetFile over an Arrow buffer, no threads: pq.read_table(io.BytesIO(...)) can abort
# at interpreter exit, see container/boostbox/process.py).
RUN /opt/venv/bin/python -c "import xgboost, sklearn, flask, gunicorn, scipy.sparse, \
sagemaker_training.errors, sagemaker_training.record_pb2, sagemaker_training.mapping"
RUN /opt/venv/bin/python -c "import boto3; boto3.client('s3', region_name='us-east-1'); \
boto3.client('sts', region_name='us-east-1')"
RUN /opt/venv/bin/pip --version
RUN /opt/venv/bin/python -c "import io, pandas, pyarrow as pa, pyarrow.parquet as pq; \
b = io.BytesIO(); pandas.DataFrame({'a': [1.0]}).to_parquet(b); \
pq.ParquetFile(pa.BufferReader(b.getvalue()), pre_buffer=False).read(use_threads=False)"
# The compiled libsvm reader (boostbox.formats.libsvmnative loads it with ctypes).
COPY container/boostbox/formats/libsvmreader.c /tmp/libsvmreader.c
RUN gcc -O2 -fPIC -shared -Wall -Wextra -Werror -o /opt/_libsvmreader.so /tmp/libsvmreader.c
# The serving fast path's tree walk (boostbox.serving.treewalknative); -ffp-contract=off keeps
# every float32 addition a separately rounded add, as NumPy's (margins bit-identical).
COPY container/boostbox/serving/treewalk.c /tmp/treewalk.c
RUN gcc -O2 -fPIC -shared -Wall -Wextra -Werror -ffp-contract=off -o /opt/_treewalk.so /tmp/treewalk.c

# --- runtime stage ----------------------------------------------------------------------
FROM debian:trixie-slim
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends python3 libgomp1 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/*
COPY --from=build /opt/venv /opt/venv
COPY container/boostbox /opt/boostbox/boostbox
COPY --from=build /opt/_libsvmreader.so /opt/boostbox/boostbox/formats/_libsvmreader.so
COPY --from=build /opt/_treewalk.so /opt/boostbox/boostbox/serving/_treewalk.so
# SageMaker runs containers as root and mounts /opt/ml root-owned. `serve` started as root
# keeps only gunicorn's master as root: its workers (which parse request bodies) switch to
# the unprivileged `boostbox` account (BOOSTBOX_WORKER_USER). `train` stays root: it writes
# /opt/ml/model, /opt/ml/output and checkpoints, which SageMaker mounts root-owned.
# Nothing under / is written at run time: `docker run --read-only` works (README).
RUN /opt/venv/bin/python -m compileall -q /opt/boostbox >/dev/null \
 && useradd --system --no-create-home --shell /usr/sbin/nologin boostbox
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
LABEL com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true \
      com.amazonaws.sagemaker.capabilities.multi-models=true \
      org.opencontainers.image.title=boostbox
EXPOSE 8080
ENTRYPOINT ["/opt/venv/bin/python", "-m", "boostbox"]
CMD ["train"]
