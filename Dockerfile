# Trợ lý NTM — production image. Build: docker build -t tro-ly-ntm .
# Run:   docker run -d --env-file .env -v ntm-data:/data -p 8080:8080 tro-ly-ntm
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY knowledge ./knowledge
COPY storage ./storage
COPY locales ./locales
RUN pip install . \
    && useradd --create-home --uid 10001 ntm \
    && mkdir -p /data \
    && chown ntm:ntm /data

USER ntm
ENV NTM_DB_PATH=/data/ntm.sqlite3 \
    NTM_WEBHOOK_HOST=0.0.0.0 \
    NTM_WEBHOOK_PORT=8080
VOLUME ["/data"]
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["ntm-bot", "health"]
CMD ["ntm-bot", "run"]
