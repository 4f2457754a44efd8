"""The web application: the public search page, the authors' submission page, the
documentalists' desk. Starlette + Jinja2, on the same database and library as the CLI.

Routes (docs/web.md): ``/`` search (``/api/count``, ``/adql``, ``/download.{csv,vot,tar}``,
``/download/size``, ``/header``, ``/file``, ``/provenance``, ``/preview/KEY.png``);
``/submit`` and ``/submit/TOKEN/...``; ``/desk`` (login) and ``/desk/TOKEN/...``.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (FileResponse, HTMLResponse, JSONResponse, PlainTextResponse,
                                 RedirectResponse, Response, StreamingResponse)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from .. import config
from ..obscore import schema
from . import auth, previews, search, skyview, submissions, tarstream, uploads
from .db import Pool
from .query import PAGE_SIZES, PRODUCT_TYPES, ROW_CAP, Search
from .units import BAND_UNITS, RADIUS_UNITS

HERE = Path(__file__).parent
#: A request body larger than this is refused before it is parsed (uploads included).
MAX_REQUEST = uploads.MAX_TOTAL + 16 * 1024**2


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    data_dir: Path  # submissions/ and previews/ live here: outside the package (the web root)
    collection_root: Path  # where approved submissions are published
    area_url: str  # the submission area (web/area.py): submissions are staged and derived there

    @classmethod
    def default(cls) -> "WebSettings":
        return cls(config.database_url(), config.home() / "web", config.home() / "sample",
                   config.submissions_database_url())

    def submission_settings(self) -> submissions.Settings:
        return submissions.Settings(self.data_dir / "submissions", self.collection_root,
                                    self.previews_dir, self.database_url, self.area_url)

    @property
    def previews_dir(self) -> Path:
        return self.data_dir / "previews"


class BodyLimit:
    """ASGI middleware: a body past ``limit`` bytes is refused (413), counted as it streams,
    whatever Content-Length says."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _too_large(self.limit, send)
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(self.limit, send)


class _TooLarge(Exception):
    pass


async def _too_large(limit: int, send: Any) -> None:
    body = f"upload refused: larger than {limit // 1024**2} MiB in total".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: WebSettings | None = None) -> Any:
    settings = settings or WebSettings.default()
    pool = Pool(settings.database_url)
    area_pool = Pool(settings.area_url, size=2)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    columns = {c.name: c for c in schema.load().columns}
    templates.env.globals.update(columns=columns, PAGE_SIZES=PAGE_SIZES, PRODUCT_TYPES=PRODUCT_TYPES,
                                 RADIUS_UNITS=RADIUS_UNITS, BAND_UNITS=BAND_UNITS, ROW_CAP=ROW_CAP,
                                 preview_key=previews.key, urlencode=urlencode)
    sub_settings = settings.submission_settings()

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        token = request.cookies.get(auth.CSRF_COOKIE)
        fresh = not token or len(token) > 100
        if fresh:
            token = auth.new_csrf_token()
        context = {"csrf": token, "user": context.pop("user", None), **context}
        response = templates.TemplateResponse(request, name, context, status_code=status)
        if fresh:
            response.set_cookie(auth.CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    async def form_checked(request: Request, **limits: Any) -> Any:
        form = await request.form(**limits)
        if not auth.csrf_ok(request.cookies.get(auth.CSRF_COOKIE), form.get(auth.CSRF_FIELD)):
            await form.close()
            raise _Refused(403, "refused: the form's CSRF token is missing or does not match "
                                "(reload the page and try again)")
        return form

    # -- search ---------------------------------------------------------------------------

    def _search(request: Request) -> tuple[Search, Any]:
        s = Search.from_params(request.query_params)
        with pool.connection() as conn:
            result = search.run(conn, s) if not s.is_empty else search.Result(s, None)
        return s, result

    def home(request: Request) -> Response:
        s, result = _search(request)
        sky = ""
        if result.rows:
            pos = result.built.position if result.built else None
            sky = skyview.render(result.rows, (pos.ra, pos.dec) if pos else None,
                                 s.radius_degrees() if pos else None)
        return page(request, "search.html", {"s": s, "result": result, "sky": sky,
                                             "permalink": urlencode(s.params())})

    def api_count(request: Request) -> Response:
        s = Search.from_params(request.query_params)
        if s.is_empty:
            return JSONResponse({"count": None, "errors": s.errors})
        with pool.connection() as conn:
            built = search.build(conn, s)
            n = None if s.errors else search.count(conn, built)
        return JSONResponse({"count": n, "errors": s.errors, "cap": ROW_CAP})

    def adql(request: Request) -> Response:
        s = Search.from_params(request.query_params)
        with pool.connection() as conn:
            built = search.build(conn, s)
        if s.errors:
            return PlainTextResponse("\n".join(s.errors), status_code=400)
        return PlainTextResponse(built.adql + "\n")

    def _selection(request: Request) -> tuple[list[str], Search]:
        s = Search.from_params(request.query_params)
        if s.is_empty:
            raise _Refused(400, "give at least one search field")
        with pool.connection() as conn:
            built = search.build(conn, s)
            if s.errors:
                raise _Refused(400, "\n".join(s.errors))
            return search.selection_dids(conn, built), s

    def download_table(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        suffix = {"csv": ".csv", "vot": ".vot"}.get(fmt)
        if suffix is None:
            return PlainTextResponse("unknown format", status_code=404)
        dids, _ = _selection(request)
        from ..api import spoly_to_stcs, write_table

        names = [c.name for c in schema.load().columns]
        select = ", ".join(f"o.{n}::text" if n == "s_region" else f"o.{n}" for n in names)
        with pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {select} FROM unnest(%s::text[]) WITH ORDINALITY d(did, n) "
                "JOIN ivoa.obscore o ON o.obs_publisher_did = d.did ORDER BY d.n", [dids]).fetchall()
        region = names.index("s_region")
        rows = [tuple(spoly_to_stcs(v) if i == region else v for i, v in enumerate(r)) for r in rows]
        table = schema.table_from_rows(rows, names)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_table(table, Path(tmp) / f"obscore{suffix}")
            data = path.read_bytes()
        media = "text/csv" if fmt == "csv" else "application/x-votable+xml"
        return Response(data, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="obscore{suffix}"'})

    def _members(request: Request) -> list[tarstream.Member]:
        dids, _ = _selection(request)
        with pool.connection() as conn:
            files = search.product_files(conn, dids)
        return tarstream.members((f.arcname, f.path) for f in files)

    def download_size(request: Request) -> Response:
        items = _members(request)
        return JSONResponse({"files": len(items), "bytes": tarstream.archive_size(items)})

    def download_tar(request: Request) -> Response:
        items = _members(request)
        return StreamingResponse(tarstream.stream(items), media_type="application/x-tar", headers={
            "Content-Length": str(tarstream.archive_size(items)),
            "Content-Disposition": 'attachment; filename="assocdata-selection.tar"'})

    def _database_of(request: Request, did: str) -> Any:
        """The connection that holds the row: a submission's (its author or a documentalist
        asking) is in the area; every other did is looked up in the published database."""
        if "/SUBMIT/" in did:
            with pool.connection() as conn:
                allowed = _may_see(request, conn, did)
            if allowed:
                return area_pool.connection()
        return pool.connection()

    def header(request: Request) -> Response:
        did = request.query_params.get("did", "")
        with _database_of(request, did) as conn:
            text = search.header_text(conn, did, include_submissions="/SUBMIT/" in did)
        if text is None:
            return PlainTextResponse("no such row", status_code=404)
        return PlainTextResponse(text)

    def file(request: Request) -> Response:
        did = request.query_params.get("did", "")
        with pool.connection() as conn:
            files = search.product_files(conn, [did])
        if not files or not files[0].path.is_file():
            return PlainTextResponse("no such file", status_code=404)
        f = files[0]
        return FileResponse(f.path, filename=f.path.name, media_type="application/fits")

    def provenance(request: Request) -> Response:
        did = request.query_params.get("did", "")
        with _database_of(request, did) as conn:
            cells = search.provenance(conn, did, include_submissions="/SUBMIT/" in did)
        if cells is None:
            return PlainTextResponse("no such row", status_code=404)
        return page(request, "provenance.html", {"did": did, "cells": cells})

    placeholder = previews.png(_placeholder_pixels())

    def preview(request: Request) -> Response:
        key = request.path_params["key"]
        if len(key) == 32 and all(c in "0123456789abcdef" for c in key):
            path = settings.previews_dir / f"{key}.png"
            if path.is_file():
                return FileResponse(path, media_type="image/png",
                                    headers={"Cache-Control": "max-age=3600"})
        return Response(placeholder, media_type="image/png", headers={"X-Preview": "placeholder"})

    # -- submissions (authors) ----------------------------------------------------------------

    def _may_see(request: Request, conn: Any, did: str) -> bool:
        """Submission rows: their author (token in the referring page) or a documentalist."""
        if _user(request, conn) is not None:
            return True
        token = request.query_params.get("token", "")
        return submissions.valid_token(token) and f"/SUBMIT/{token}?" in did

    def _user(request: Request, conn: Any) -> auth.User | None:
        return auth.session_user(conn, request.cookies.get(auth.SESSION_COOKIE))

    def submit_form(request: Request) -> Response:
        return page(request, "submit.html", {})

    async def submit_new(request: Request) -> Response:
        form = await form_checked(request, max_files=uploads.MAX_FILES + 2, max_fields=20)
        try:
            files = [(f.filename or "unnamed", f.file) for f in form.getlist("files")
                     if hasattr(f, "filename")]
            if not files:
                raise _Refused(400, "choose at least one file (FITS, .tar, .zip, ReadMe, mapping)")

            def work() -> str:
                with pool.connection() as conn:
                    token = submissions.create(conn)
                    submissions.receive(conn, sub_settings, token, files)
                    messages = submissions.check(conn, sub_settings, token)
                    _store_messages(conn, token, messages)
                return token

            token = await run_in_threadpool(work)
        finally:
            await form.close()
        return RedirectResponse(f"/submit/{token}", status_code=303)

    def _store_messages(conn: Any, token: str, messages: list[str]) -> None:
        conn.execute("UPDATE web.submission SET diagnostics = %s WHERE token = %s", [messages, token])

    def _submission_context(conn: Any, token: str) -> dict[str, Any]:
        sub = submissions.get(conn, token)
        if sub is None:
            raise _Refused(404, "no such submission")
        with area_pool.connection() as area:
            found, problems = submissions.rows(area, token), submissions.file_problems(area, token)
        return {"sub": sub, "rows": found, "problems": problems,
                "events": submissions.events(conn, token),
                "diagnostics": sub["diagnostics"]}

    def submission_page(request: Request) -> Response:
        token = request.path_params["token"]
        with pool.connection() as conn:
            ctx = _submission_context(conn, token)
        return page(request, "submission.html", {**ctx, "desk": False})

    async def submission_upload(request: Request) -> Response:
        token = request.path_params["token"]
        form = await form_checked(request, max_files=uploads.MAX_FILES + 2, max_fields=20)
        try:
            files = [(f.filename or "unnamed", f.file) for f in form.getlist("files")
                     if hasattr(f, "filename")]

            def work() -> None:
                with pool.connection() as conn:
                    submissions.receive(conn, sub_settings, token, files)
                    _store_messages(conn, token, submissions.check(conn, sub_settings, token))

            await run_in_threadpool(work)
        except submissions.SubmissionError as exc:
            raise _Refused(409, str(exc)) from None
        finally:
            await form.close()
        return RedirectResponse(f"/submit/{token}", status_code=303)

    async def _mapping_post(request: Request, desk: bool) -> Response:
        token = request.path_params["token"]
        form = await form_checked(request, max_fields=10, max_part_size=uploads.MAX_TEXT)
        text = str(form.get("mapping") or "")
        if len(text) > uploads.MAX_TEXT or "\x00" in text:
            raise _Refused(400, "mapping refused: too long or binary")

        def work() -> None:
            with pool.connection() as conn:
                if desk:
                    _require_user(request, conn)
                sub = submissions.get(conn, token)
                if sub is None:
                    raise _Refused(404, "no such submission")
                if not desk and sub["status"] not in ("draft", "needs-fix"):
                    raise _Refused(409, f"this submission is {sub['status']}: it cannot change now")
                _store_messages(conn, token, submissions.check(conn, sub_settings, token, text))

        await run_in_threadpool(work)
        return RedirectResponse(f"/{'desk' if desk else 'submit'}/{token}#mapping", status_code=303)

    async def submission_mapping(request: Request) -> Response:
        return await _mapping_post(request, desk=False)

    def submission_mapping_file(request: Request) -> Response:
        with pool.connection() as conn:
            sub = submissions.get(conn, request.path_params["token"])
        if sub is None:
            return PlainTextResponse("no such submission", status_code=404)
        return PlainTextResponse(sub["mapping"] or "", headers={
            "Content-Disposition": 'attachment; filename="mapping.map"'})

    async def submission_send(request: Request) -> Response:
        token = request.path_params["token"]
        form = await form_checked(request, max_fields=10)

        def work() -> None:
            with pool.connection() as conn:
                submissions.submit(conn, token, str(form.get("catalogue") or ""),
                                   str(form.get("contact") or ""))

        try:
            await run_in_threadpool(work)
        except submissions.SubmissionError as exc:
            raise _Refused(400, str(exc)) from None
        return RedirectResponse(f"/submit/{token}", status_code=303)

    # -- the documentalists' desk ------------------------------------------------------------

    def _require_user(request: Request, conn: Any) -> auth.User:
        user = _user(request, conn)
        if user is None:
            raise _Redirect("/desk/login")
        return user

    def login_form(request: Request) -> Response:
        return page(request, "login.html", {"error": None})

    async def login_post(request: Request) -> Response:
        form = await form_checked(request, max_fields=5)
        username = str(form.get("username") or "")[:64]
        password = str(form.get("password") or "")[:1024]
        def work() -> str | None:  # scrypt takes tens of milliseconds: not on the event loop
            with pool.connection() as conn:
                return auth.login(conn, username, password)

        token = await run_in_threadpool(work)
        if token is None:
            return page(request, "login.html", {"error": "wrong name or password"}, status=401)
        response = RedirectResponse("/desk", status_code=303)
        response.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="strict",
                            max_age=auth.SESSION_HOURS * 3600)
        return response

    async def logout_post(request: Request) -> Response:
        await form_checked(request, max_fields=5)

        def work() -> None:
            with pool.connection() as conn:
                auth.logout(conn, request.cookies.get(auth.SESSION_COOKIE))

        await run_in_threadpool(work)
        response = RedirectResponse("/desk/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE)
        return response

    def desk(request: Request) -> Response:
        with pool.connection() as conn, area_pool.connection() as area:
            user = _require_user(request, conn)
            status = request.query_params.get("status")
            items = submissions.listing(conn, area, status)
        return page(request, "desk.html", {"user": user, "items": items, "status": status,
                                           "STATUSES": submissions.STATUSES})

    def desk_submission(request: Request) -> Response:
        token = request.path_params["token"]
        with pool.connection() as conn:
            user = _require_user(request, conn)
            ctx = _submission_context(conn, token)
            if ctx["sub"]["status"] == "new":
                submissions.set_status(conn, token, "checking", user.username)
                ctx["sub"]["status"] = "checking"
                ctx["events"] = submissions.events(conn, token)
        return page(request, "submission.html", {**ctx, "desk": True, "user": user})

    async def desk_mapping(request: Request) -> Response:
        return await _mapping_post(request, desk=True)

    async def desk_publish(request: Request) -> Response:
        token = request.path_params["token"]
        await form_checked(request, max_fields=5)

        def work() -> dict[str, Any]:
            with pool.connection() as conn:
                user = _require_user(request, conn)
                return submissions.publish(conn, sub_settings, token, user.username)

        try:
            await run_in_threadpool(work)
        except submissions.SubmissionError as exc:
            raise _Refused(409, str(exc)) from None
        return RedirectResponse(f"/desk/{token}", status_code=303)

    async def desk_send_back(request: Request) -> Response:
        token = request.path_params["token"]
        form = await form_checked(request, max_fields=5)
        note = str(form.get("note") or "").strip()[:4000]
        if not note:
            raise _Refused(400, "say what the author should fix (the note is sent with it)")
        def work() -> None:
            with pool.connection() as conn:
                user = _require_user(request, conn)
                if submissions.get(conn, token) is None:
                    raise _Refused(404, "no such submission")
                submissions.set_status(conn, token, "needs-fix", user.username, note)

        await run_in_threadpool(work)
        return RedirectResponse(f"/desk/{token}", status_code=303)

    async def refused(request: Request, exc: Exception) -> Response:
        if isinstance(exc, _Redirect):
            return RedirectResponse(exc.location, status_code=303)
        assert isinstance(exc, _Refused)
        return PlainTextResponse(exc.message, status_code=exc.status)

    routes = [
        Route("/", home), Route("/api/count", api_count), Route("/adql", adql),
        Route("/download.{fmt:str}", download_table, name="download_table"),
        Route("/download/size", download_size), Route("/download/selection.tar", download_tar),
        Route("/header", header), Route("/file", file), Route("/provenance", provenance),
        Route("/preview/{key:str}.png", preview),
        Route("/submit", submit_form), Route("/submit", submit_new, methods=["POST"]),
        Route("/submit/{token:str}", submission_page),
        Route("/submit/{token:str}/upload", submission_upload, methods=["POST"]),
        Route("/submit/{token:str}/mapping", submission_mapping, methods=["POST"]),
        Route("/submit/{token:str}/mapping.map", submission_mapping_file),
        Route("/submit/{token:str}/send", submission_send, methods=["POST"]),
        Route("/desk/login", login_form), Route("/desk/login", login_post, methods=["POST"]),
        Route("/desk/logout", logout_post, methods=["POST"]),
        Route("/desk", desk), Route("/desk/{token:str}", desk_submission),
        Route("/desk/{token:str}/mapping", desk_mapping, methods=["POST"]),
        Route("/desk/{token:str}/publish", desk_publish, methods=["POST"]),
        Route("/desk/{token:str}/send-back", desk_send_back, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        await run_in_threadpool(_warm_up)
        yield
        pool.close()

    app = Starlette(routes=routes, exception_handlers={_Refused: refused, _Redirect: refused},
                    lifespan=lifespan)
    app.state.settings = settings
    app.state.pool = pool
    return BodyLimit(app, MAX_REQUEST)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class _Redirect(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _warm_up() -> None:
    """Import what the first searches would (astropy's time and coordinates, the table
    writers: ~0.3 s) at start-up, not in a visitor's request."""
    import astropy.coordinates  # noqa: F401
    import astropy.io.votable  # noqa: F401
    import astropy.time  # noqa: F401
    from astropy.table import Table  # noqa: F401


def _placeholder_pixels() -> Any:
    """A light grey square with a darker frame: 'no preview'."""
    import numpy as np

    img = np.full((64, 64), 228, np.uint8)
    img[[0, -1], :] = 170
    img[:, [0, -1]] = 170
    for i in range(16, 48):  # a diagonal cross
        img[i, i] = img[i, 63 - i] = 170
    return img
