"""A local news site on 127.0.0.1: RSS and Atom feeds, article pages wrapped in the navigation, ads,
comments and related links real pages carry, and the failures a feed reader meets (404, 500, a page
that never finishes, one too large, a picture, a redirect loop, a malformed feed)."""

from __future__ import annotations

import hashlib
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} - {site}</title>
<meta property="og:site_name" content="{site}"><meta property="article:published_time" content="{date}T08:00:00+08:00">
</head><body>
<nav><a href="/">{home}</a> | <a href="/world">World</a> | <a href="/tech">Tech</a> | <a href="/login">Log in</a></nav>
<div class="ad">{ad}</div>
<article><h1>{title}</h1><p class="byline">{date}</p>{body}</article>
<aside class="related"><h3>{related}</h3><ul><li><a href="/x1">{related_1}</a></li><li><a href="/x2">{related_2}</a></li></ul></aside>
<section class="comments"><h3>Comments</h3><p>{comment}</p></section>
<footer>© {site}. All rights reserved. <a href="/privacy">Privacy</a></footer></body></html>"""


def article_page(title: str, paragraphs: list[str], date: str, site: str, chinese: bool) -> bytes:
    return PAGE.format(
        lang="zh" if chinese else "en", title=title, site=site, date=date, body="".join(f"<p>{p}</p>" for p in paragraphs),
        home="首页" if chinese else "Home", ad="广告:买房就上安居网,首付低至一成" if chinese else "ADVERTISEMENT: Buy one, get one free",
        related="相关新闻" if chinese else "Related", related_1="腾讯发布新模型" if chinese else "Stocks close higher",
        related_2="百度发布财报" if chinese else "Weather turns cold", comment="网友:说得好!" if chinese else "Great article, thanks!",
    ).encode("utf-8")


def rss(title: str, items: list[tuple[str, str, str]]) -> bytes:
    """items: (link, title, date YYYY-MM-DD)."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{formatdate(time.mktime(time.strptime(d, '%Y-%m-%d')), usegmt=True)}"
        f"</pubDate><description>{t}</description></item>" for link, t, d in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>http://example.invalid/</link><description>news</description>{entries}</channel></rss>").encode("utf-8")


def atom(title: str, items: list[tuple[str, str, str]]) -> bytes:
    entries = "".join(f'<entry><title>{t}</title><link href="{link}"/><id>{link}</id><updated>{d}T08:00:00Z</updated>'
                      f"<summary>{t}</summary></entry>" for link, t, d in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>'
            f"<id>urn:x</id><updated>2026-03-05T08:00:00Z</updated>{entries}</feed>").encode("utf-8")


class FakeNewsSite:
    """``with FakeNewsSite() as site``: ``site.put(path, body, content_type)`` publishes, ``site.url(path)``
    addresses it; ``site.hits`` counts requests per path, ``site.not_modified`` the 304s sent, and
    ``site.delays[path]`` slows a path down."""

    def __init__(self) -> None:
        self.resources: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self.not_modified: dict[str, int] = {}
        self.delays: dict[str, float] = {}  # path: seconds to wait before answering
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with site._lock:
                    site.hits[self.path] = site.hits.get(self.path, 0) + 1
                    resource = site.resources.get(self.path)
                time.sleep(site.delays.get(self.path, 0.0))
                try:
                    if self.path == "/never-finishes":
                        return self._drip()
                    if self.path.startswith("/loop"):
                        return self._send(302, b"", "text/html", {"Location": "/loop" + str(int(self.path[5:] or 0) + 1)})
                    if self.path == "/broken":
                        return self._send(500, b"oops", "text/plain")
                    if self.path == "/huge":
                        return self._send(200, b"<html><body>" + b"<p>x</p>" * ((20 << 20) // 8) + b"</body></html>", "text/html")
                    if resource is None:
                        return self._send(404, b"not found", "text/plain")
                    body, content_type = resource
                    etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                    if self.headers.get("If-None-Match") == etag:
                        with site._lock:
                            site.not_modified[self.path] = site.not_modified.get(self.path, 0) + 1
                        return self._send(304, b"", content_type, {"ETag": etag})
                    self._send(200, body, content_type, {"ETag": etag})
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def _drip(self) -> None:
                """Headers, then a byte a second, for ever: only a deadline on the whole response stops it."""
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                for _ in range(600):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def put(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        with self._lock:
            self.resources[path] = (body, content_type)

    def __enter__(self) -> FakeNewsSite:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
