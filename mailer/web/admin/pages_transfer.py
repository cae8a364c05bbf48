"""Import subscribers from an uploaded CSV (with a progress bar and the rejected rows to
download) and export them as CSV. subscribers.importer and subscribers.exporter do the work;
the import runs in a thread and writes its progress to var/imports/JOB.json, which the page
polls (any web worker on this machine can answer)."""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import Engine, select

from mailer.accounts import audit
from mailer.accounts.principal import Principal
from mailer.web.admin.access import Editor, check_form, not_found, render
from mailer.web.deps import web
from subscribers.csvio import rejected_path
from subscribers.db import transaction
from subscribers.errors import SubscriberError
from subscribers.exporter import export_csv
from subscribers.importer import import_csv
from subscribers.models import MailingList
from subscribers.store import find_list

router = APIRouter()
Short = Annotated[str, Form(max_length=2000)]
MAX_UPLOAD = 200 * 1024 * 1024
CHUNK = 1024 * 1024
_JOB = re.compile(r"^[0-9a-f]{16}$")


def _jobs(request: Request) -> Path:
    folder = web(request).settings.VAR_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _form(
    request: Request, who: Principal, f: dict[str, str], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    with transaction(web(request).engine) as session:
        lists = list(session.scalars(select(MailingList.name).order_by(MailingList.name)))
    context = {"title": "Import and export", "lists": lists, "f": f, "errors": errors}
    return render(request, "transfer.html", who, context, status=status)


@router.get("/admin/subscribers-transfer", response_class=HTMLResponse)
def transfer(request: Request, who: Editor) -> HTMLResponse:
    return _form(request, who, {"list": "", "segment": ""}, {})


@router.post("/admin/subscribers-transfer/import")
async def start_import(
    request: Request, who: Editor, file: UploadFile, list: Short = "", csrf_token: Short = ""
) -> Response:
    check_form(request, csrf_token)
    with transaction(web(request).engine) as session:
        if not list or find_list(session, list) is None:
            error = "choose the list to import into" if not list else f"no list named {list!r}"
            return _form(request, who, {"list": list, "segment": ""}, {"list": error}, 400)
    job = secrets.token_hex(8)
    path = _jobs(request) / f"{job}.csv"
    size = 0
    with path.open("wb") as out:
        while chunk := await file.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD:
                out.close()
                path.unlink()
                error = f"{file.filename}: larger than {MAX_UPLOAD // CHUNK} MB"
                return _form(request, who, {"list": list, "segment": ""}, {"file": error}, 400)
            out.write(chunk)
    _write(path.with_suffix(".json"), {"done": 0, "total": size, "finished": False})
    args = (web(request).engine, who, path, list)
    threading.Thread(target=_run_import, args=args, daemon=True).start()
    return RedirectResponse(f"/admin/imports/{job}", status_code=303)


def _write(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(data), encoding="utf-8")
    partial.replace(path)  # a reader never sees half a file


def _run_import(engine: Engine, who: Principal, path: Path, list_name: str) -> None:
    status = path.with_suffix(".json")

    def progress(done: int, total: int) -> None:
        _write(status, {"done": done, "total": total, "finished": False})

    try:
        result = import_csv(engine, path, list_name, progress=progress)
    except SubscriberError as exc:
        _write(status, {"done": 0, "total": 1, "finished": True, "error": str(exc)})
        return
    counts = {k: v for k, v in result.as_dict().items() if k != "rejected_file"}
    with transaction(engine) as session:
        audit.record(session, who, "subscribers.import", f"list {list_name}", json.dumps(counts))
    size = path.stat().st_size
    _write(status, {"done": size, "total": size, "finished": True, **counts})


def _status(request: Request, job: str) -> dict[str, Any]:
    path = _jobs(request) / f"{job}.json"
    if not _JOB.match(job) or not path.is_file():
        raise not_found("import")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@router.get("/admin/imports/{job}", response_class=HTMLResponse)
def import_page(request: Request, job: str, who: Editor) -> HTMLResponse:
    context = {"title": "Import", "job": job, "s": _status(request, job)}
    return render(request, "import.html", who, context)


@router.get("/admin/imports/{job}/progress")
def import_progress(request: Request, job: str, who: Editor) -> JSONResponse:
    return JSONResponse(_status(request, job), headers={"Cache-Control": "no-store"})


@router.get("/admin/imports/{job}/rejected")
def rejected(request: Request, job: str, who: Editor) -> FileResponse:
    _status(request, job)
    path = rejected_path(_jobs(request) / f"{job}.csv")
    if not path.is_file():
        raise not_found("file of rejected rows")
    return FileResponse(path, media_type="text/csv", filename="rejected.csv")


@router.get("/admin/subscribers-transfer/export")
async def export(request: Request, who: Editor) -> Response:
    wanted = {k: request.query_params.get(k, "")[:2000] for k in ("list", "segment")}
    try:
        path, count = await run_in_threadpool(_export, request, wanted)
    except SubscriberError as exc:
        field = "segment" if "segment" in str(exc) else "list"
        return _form(request, who, wanted, {f"export_{field}": str(exc)}, 400)
    with transaction(web(request).engine) as session:
        audit.record(
            session, who, "subscribers.export", f"list {wanted['list'] or '*'}", f"{count} rows"
        )
    return FileResponse(path, media_type="text/csv", filename="subscribers.csv")


def _export(request: Request, wanted: dict[str, str]) -> tuple[Path, int]:
    folder = _jobs(request)
    stale = time.time() - 3600
    for old in folder.glob("export-*.csv"):
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)  # long downloaded
    path = folder / f"export-{secrets.token_hex(8)}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        count = export_csv(
            web(request).engine, out, wanted["list"] or None, wanted["segment"] or None
        )
    return path, count
