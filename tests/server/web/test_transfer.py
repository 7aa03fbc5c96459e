"""server/web/transfer.py: what is compressed and what is not, streams stay streams, and an answer
that says nothing about caching is stored nowhere."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.testclient import TestClient

from server.web.transfer import XLSX, add_transfer_middleware

BIG = ("Phường Diên Hồng, Quầy 1: Hoàn thành nhiệm vụ. " * 200).encode()
CHUNKS = 5


def small_app() -> FastAPI:
    app = FastAPI()

    @app.get("/json")
    def big_json() -> JSONResponse:
        return JSONResponse({"rows": [BIG.decode()]})

    @app.get("/small")
    def small() -> JSONResponse:
        return JSONResponse({"ok": True})

    @app.get("/file/{media_type:path}")
    def file(media_type: str) -> Response:
        return Response(BIG, media_type=media_type)

    @app.get("/kept")
    def kept() -> Response:
        return Response(BIG, media_type="text/css", headers={"Cache-Control": "max-age=60"})

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse((BIG for _ in range(CHUNKS)), media_type="text/csv")

    add_transfer_middleware(app)
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(small_app(), headers={"Accept-Encoding": "gzip"}) as client:
        yield client


def raw(client: TestClient, path: str) -> tuple[dict[str, str], bytes]:
    with client.stream("GET", path) as answer:
        assert answer.status_code == 200
        return dict(answer.headers), b"".join(answer.iter_raw())


def test_a_large_answer_is_gzipped(client: TestClient) -> None:
    headers, body = raw(client, "/json")
    assert headers["content-encoding"] == "gzip"
    assert len(body) < len(BIG) / 10
    assert BIG.decode() in gzip.decompress(body).decode()


def test_a_small_answer_is_sent_as_it_is(client: TestClient) -> None:
    headers, body = raw(client, "/small")
    assert "content-encoding" not in headers
    assert body == b'{"ok":true}'


@pytest.mark.parametrize("media_type", [XLSX, "application/pdf", "application/zip", "image/png"])
def test_compressed_files_are_not_compressed_again(client: TestClient, media_type: str) -> None:
    headers, body = raw(client, f"/file/{media_type}")
    assert "content-encoding" not in headers
    assert body == BIG


def test_a_stream_stays_a_stream_and_each_chunk_arrives_whole(client: TestClient) -> None:
    with client.stream("GET", "/stream") as answer:
        assert answer.headers["content-encoding"] == "gzip"
        assert "content-length" not in answer.headers
        chunks = list(answer.iter_raw())
    assert len(chunks) == CHUNKS + 1  # each flushed as it came, then the gzip trailer
    unpack = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert unpack.decompress(chunks[0]) == BIG  # readable before the stream ends
    assert unpack.decompress(b"".join(chunks[1:])) + unpack.flush() == BIG * (CHUNKS - 1)


def test_no_gzip_when_the_browser_does_not_ask(client: TestClient) -> None:
    answer = client.get("/json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in answer.headers
    assert BIG.decode() in answer.text


def test_an_answer_is_stored_nowhere_unless_it_says_otherwise(client: TestClient) -> None:
    assert client.get("/json").headers["cache-control"] == "no-store"
    assert client.get("/file/application/pdf").headers["cache-control"] == "no-store"
    assert client.get("/kept").headers["cache-control"] == "max-age=60"
