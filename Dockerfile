# StudyBuddy: `docker build -t studybuddy .` then
# `docker run -e TELEGRAM_BOT_TOKEN=... -v studybuddy-data:/data studybuddy`
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/studybuddy.db

# Noto CJK: the /stats picture draws Chinese labels with it (without it they fall back to English).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY bot ./bot
COPY storage ./storage
COPY migrations ./migrations
RUN pip install '.[postgres]' \
    && useradd --create-home --uid 10001 studybuddy \
    && mkdir -p /data && chown studybuddy:studybuddy /data

USER studybuddy
VOLUME ["/data"]
CMD ["studybuddy", "run"]
