# The image every Cadenza process runs from in docker-compose.yml (the same code `cadenza up` runs).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libfluidsynth3 fluid-soundfont-gm timgm6mb-soundfont espeak-ng libsndfile1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e .
# metrics and the API listen beyond loopback inside a container; artifacts on the shared volume
ENV CADENZA_METRICS_HOST=0.0.0.0 CADENZA_API_HOST=0.0.0.0 CADENZA_RUN_DIR=/data/run \
    CADENZA_ARTIFACT_DIR=/data/artifacts PYTHONUNBUFFERED=1
ENTRYPOINT ["python", "-m", "cadenza_cli.main"]
