"""The review web server: one page, a JSON API, and the frame images, on 127.0.0.1 by default.

Safety: images are served only for frames of the project whose file lies under
its ``data/`` folder (any other path is a 404); state changes are POST only
and carry the per-session token embedded in the page (else 403); on a loopback
address a request naming another host is refused, so a DNS-rebinding page
cannot read the token. Nothing from a request is ever executed.

Consistency: before each request the project re-reads what changed on disk
(pipeline outputs, the decision log: another tab, an import, a git checkout).
A save names the picture it was made on (its sha256) and the decision it
replaces (its ``version``, null for none); it is refused (409) when the frame
now shows another picture, its image cannot be served, or someone else
decided the frame since, so nobody's work is overwritten silently.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import secrets
import sys
import threading
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, abort, jsonify, render_template_string, request
from werkzeug.serving import BaseWSGIServer, make_server

from framehound.boxes import Box
from framehound.decisions.log import MAX_BOXES
from framehound.errors import FramehoundError
from framehound.review.project import Frame, ReviewProject
from framehound.review.queue import STATUSES, ordered, page_of, progress
from framehound.shards import DamagedFrame

TOKEN_HEADER = "X-Review-Token"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
PER_PAGE = 8
MAX_BODY = 1 << 20  # bytes of one POST: 500 boxes take about 60 KB
REQUEST_KEYS = {"frame_id", "verdict", "boxes", "dismissed", "sha256", "base", "background"}
SHORTCUTS = [("a", "accept the frame with its boxes (unlabelled objects stay masked)"), ("r", "reject the frame"),
             ("→ / ←", "next / previous frame"), ("PageDown / PageUp", "next / previous page"),
             ("Tab / Shift+Tab", "select the next / previous box"), ("x or Delete", "delete the selected box"),
             ("1 … 9", "set the selected box's class"),
             ("p", "promote the selected dimmed box or unlabelled object"),
             ("d", "dismiss the selected unlabelled object or dimmed box: not an object (no mask)"),
             ("n", "new box in the middle of the frame"),
             ("c", "copy the boxes of the previous frame of the video"),
             ("Shift+A", "accept every frame of the page that is complete and sure (no masked or dimmed box, "
              "every box above Promote ≥)"), ("Shift+arrows", "move the selected box"),
             ("Ctrl+arrows", "move the selected box's right / bottom edge"), ("Esc", "deselect the box"),
             ("mouse", "drag on the image: draw a box; drag a box: move it; drag an edge: resize")]


def _frame_json(project: ReviewProject, frame: Frame) -> dict[str, Any]:
    decision = project.decisions.get(frame.frame_id)
    return {
        "frame_id": frame.frame_id, "video_id": frame.video_id, "t_ms": frame.t_ms, "sha256": frame.sha256,
        "width": frame.width, "height": frame.height,
        "image": f"/image/{quote(frame.frame_id, safe='')}?sha256={frame.sha256}",
        "proposed": [b.as_dict() for b in frame.proposed], "dimmed": [b.as_dict() for b in frame.dimmed],
        "unlabelled": [b.as_dict() | {"reason": r} for b, r in zip(frame.unlabelled, frame.reasons, strict=True)],
        "faint": frame.faint, "held": frame.frame_id in project.held and decision is None,
        "in_dataset": frame.frame_id in project.in_dataset if decision is None else decision.verdict != "rejected",
        "changed_picture": frame.frame_id in project.changed,
        "decision": None if decision is None else _decision_json(project, frame.frame_id),
        "previous": _previous_boxes(project, frame),
    }


def _previous_boxes(project: ReviewProject, frame: Frame) -> list[dict[str, Any]]:
    """The boxes the frame before this one in its video has now (a person's where decided), in this frame's
    pixels: what `c` copies (people's boxes on a slow scene carry over)."""
    before = project.previous.get(frame.frame_id)
    if before is None:
        return []
    source = project.frames[before]
    sx, sy = frame.width / source.width, frame.height / source.height
    return [b.scaled(sx, sy).as_dict() | {"confidence": None} for b in project.current_boxes(before)]


def _decision_json(project: ReviewProject, frame_id: str) -> dict[str, Any]:
    """The decision a frame has now, with its version (a save names the one it replaces)."""
    decision = project.decisions[frame_id]
    frame = project.frames[frame_id]
    return {"verdict": decision.verdict, "reviewer": decision.reviewer, "time": decision.time,
            "source": decision.source, "version": decision.version,
            "boxes": [b.as_dict() for b in project.current_boxes(frame_id)],
            "dismissed": [b.as_dict() for b in decision.dismissed_on(frame.width, frame.height)],
            "missing_classes": project.missing_classes(frame_id)}


def _boxes(raw: Any, classes: list[str]) -> list[Box]:
    if not isinstance(raw, list):
        raise ValueError("boxes must be a list")
    if len(raw) > MAX_BOXES:
        raise ValueError(f"at most {MAX_BOXES} boxes a frame, got {len(raw)}")
    boxes = [Box.parse(b) for b in raw]
    unknown = sorted({b.class_name for b in boxes} - set(classes))
    if unknown:
        raise ValueError(f"unknown class {unknown[0]!r}; the dataset's classes: {', '.join(classes)} "
                         "(a class the model does not know goes in filter.new_classes)")
    return boxes


@dataclass
class Request:
    """A save as the page sent it."""

    frame_id: str
    boxes: list[Box] | None            # None rejects the frame
    dismissed: list[Box]
    sha256: str | None                 # the picture the person saw (None: a client that does not say)
    base: str | None                   # the version of the decision it replaces (None: the frame had none)
    checks_base: bool                  # the client said which decision it replaces (the page always does)
    background: bool                   # the person confirmed: nothing here is an object


class Conflict(Exception):
    """A save that would overwrite another picture's or another person's state (HTTP 409)."""


def parse_decision_request(body: Any, project: ReviewProject) -> Request:
    """The save a POSTed body asks for; ValueError says what is wrong.

    The body is ``{"frame_id", "verdict": "rejected"}`` or ``{"frame_id", "boxes": [...]}`` (with
    optional ``dismissed``, ``sha256``, ``base``, ``background``): the server itself decides
    between accepted and edited, so no other verdict is taken.
    """
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    unknown = sorted(set(body) - REQUEST_KEYS, key=str)
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (expected {', '.join(sorted(REQUEST_KEYS))})")
    frame_id = body.get("frame_id")
    if not isinstance(frame_id, str) or frame_id not in project.frames:
        raise ValueError("unknown frame_id")
    sha, base = body.get("sha256"), body.get("base")
    if not (sha is None or isinstance(sha, str)) or not (base is None or isinstance(base, str)):
        raise ValueError("sha256 and base must be strings (or null)")
    background = body.get("background", False)
    if not isinstance(background, bool):
        raise ValueError("background must be true or false")
    dismissed = _boxes(body.get("dismissed", []), project.classes)
    if "verdict" in body:
        if body["verdict"] != "rejected" or "boxes" in body:
            raise ValueError('verdict must be "rejected" (and come without boxes); send boxes to accept or edit')
        return Request(frame_id, None, [], sha, base, "base" in body, background)
    boxes = _boxes(body.get("boxes"), project.classes)
    frame = project.frames[frame_id]
    outside = next((b for b in boxes if b.clipped(frame.width, frame.height) is None), None)
    if outside is not None:
        raise ValueError(f"box is outside the frame ({frame.width}x{frame.height}): {outside.as_dict()}")
    return Request(frame_id, boxes, dismissed, sha, base, "base" in body, background)


def check_current(project: ReviewProject, req: Request) -> None:
    """Conflict when the save was made on another picture or another decision than the frame has now,
    or the frame's image cannot be served; ValueError when a background image is not confirmed."""
    frame = project.frames[req.frame_id]
    if project.unavailable:
        raise Conflict(f"the pipeline outputs cannot be read now ({project.unavailable}); not saved: wait for "
                       "dvc repro to finish, then reload the page")
    if req.sha256 is not None and req.sha256 != frame.sha256:
        raise Conflict(f"{req.frame_id} shows another picture since this page loaded it (the pipeline outputs "
                       "changed); not saved: reload the page")
    try:
        frame.jpeg()
    except DamagedFrame as exc:
        raise Conflict(f"{req.frame_id}: its image cannot be served ({exc}); not saved") from None
    now = project.decisions.get(req.frame_id)
    if req.checks_base and (None if now is None else now.version) != req.base:
        who = "its decision was removed" if now is None else \
            f"{now.reviewer} ({now.source}) decided it {now.verdict} at {now.time}"
        raise Conflict(f"{req.frame_id} changed since this page loaded it: {who}; not saved: reload to see it")
    if req.boxes is not None and not req.background and project.needs_confirmation(
            req.frame_id, req.boxes, req.dismissed):
        raise ValueError(f"{req.frame_id}: no box, but the detector saw something; confirm it is a background "
                         "image (press a again), or dismiss each object (d)")


def _json_body() -> Any:
    """The request's JSON, or None when it is not JSON (or nested too deep for the parser)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _frames_page(project: ReviewProject, status: str, class_name: str, video: str, page: int,
                 per_page: int) -> dict[str, Any]:
    """One page of a view, with the view's whole queue and the review's progress.

    The page keeps the ``queue`` it got when it opened the view and asks for
    later pages by their ids (``_frames_of``): deciding frames that leave the
    view (not yet reviewed) never shifts the next ones out of reach.
    """
    ids = ordered(project, status if status in STATUSES else "all", class_name, video)
    per_page = min(max(per_page, 1), 100)
    pages = max(math.ceil(len(ids) / per_page), 1)
    page = min(max(page, 0), pages - 1)
    return _frames_of(project, page_of(project, ids, page, per_page)) | {"page": page, "queue": ids}


def _frames_of(project: ReviewProject, ids: list[str]) -> dict[str, Any]:
    """The frames of ``ids`` that still exist, as they are now, and the review's progress."""
    known = [f for f in ids if f in project.frames]
    return {"frames": [_frame_json(project, project.frames[f]) for f in page_of(project, known, 0, len(known))],
            "progress": progress(project)}


def host_allowed(name: str, listen: str) -> bool:
    """May a request naming Host ``name`` be served by a server listening on ``listen``?

    A DNS-rebinding page always names its own domain, so only loopback names,
    the very name served, and (beyond loopback) bare IP addresses pass.
    """
    if name in LOOPBACK or name == listen:
        return True
    if listen in LOOPBACK:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def create_app(project: ReviewProject, reviewer: str, listen: str = "127.0.0.1") -> Flask:
    """The Flask app over ``project`` served on ``listen``; decisions are recorded under ``reviewer``."""
    package = files("framehound.review")
    app = Flask(__name__, static_folder=str(package / "static"), static_url_path="/static")
    app.url_map.merge_slashes = False  # "/static//etc/passwd" is a 404, not a redirect to a cleaned-up path
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY  # a larger POST is a 413 before it is read
    page = (package / "page.html").read_text(encoding="utf-8")
    token = secrets.token_urlsafe(32)
    data_dir = (project.root / "data").resolve()
    lock = threading.Lock()  # the project's decisions change under requests served by other threads

    @app.before_request
    def _known_host() -> None:
        if not host_allowed(request.host.rsplit(":", 1)[0], listen):
            abort(403)
        if request.path.startswith(("/api/", "/image/")):
            with lock:
                project.refresh()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self'; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/")
    def index() -> str:
        config = {"classes": project.classes, "min_confidence": project.min_confidence, "statuses": STATUSES,
                  "videos": sorted({f.video_id for f in project.frames.values()}), "reviewer": reviewer,
                  "shortcuts": SHORTCUTS, "unreadable_lines": project.unreadable_lines,
                  "missing_frames": project.missing_frames, "policy": project.policy, "per_page": PER_PAGE}
        return render_template_string(page, token=token, config=config)

    @app.get("/favicon.ico")
    def favicon() -> tuple[str, int]:
        return "", 204

    @app.get("/api/frames")
    def frames() -> Response:
        args = request.args
        with lock:
            if "id" in args:  # a page of a queue the page already holds
                return jsonify(_frames_of(project, args.getlist("id")[:100]))
            return jsonify(_frames_page(project, args.get("status", "all"), args.get("class", ""),
                                        args.get("video", ""), args.get("page", 0, type=int),
                                        args.get("per_page", PER_PAGE, type=int)))

    @app.post("/api/decisions")
    def decide() -> Response | tuple[Response, int]:
        if not hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), token.encode()):
            abort(403)
        with lock:
            try:
                req = parse_decision_request(_json_body(), project)
                check_current(project, req)
            except ValueError as exc:
                return jsonify(error=str(exc)), 400
            except Conflict as exc:
                return jsonify(error=str(exc)), 409
            project.record([project.decide(req.frame_id, req.boxes, reviewer, dismissals=req.dismissed)])
            return jsonify(decision=_decision_json(project, req.frame_id), progress=progress(project))

    @app.errorhandler(413)
    def _too_large(_: Exception) -> tuple[Response, int]:
        return jsonify(error=f"request body over {MAX_BODY} bytes"), 413

    @app.get("/image/<frame_id>")
    def image(frame_id: str) -> Response:
        frame = project.frames.get(frame_id)
        if frame is None or not frame.shard.resolve().is_relative_to(data_dir):
            abort(404)
        if request.args.get("sha256", frame.sha256) != frame.sha256:  # the page shows a picture since replaced
            return Response(f"{frame_id} shows another picture now (the pipeline outputs changed): reload the page",
                            status=409, mimetype="text/plain")
        try:
            return Response(frame.jpeg(), mimetype="image/jpeg")
        except DamagedFrame as exc:  # never a damaged frame to review: the message says how to heal it
            return Response(str(exc), status=404, mimetype="text/plain")

    return app


def bind(project: ReviewProject, reviewer: str, host: str = "127.0.0.1", port: int = 0) -> tuple[BaseWSGIServer, str]:
    """A threaded server bound to ``host``:``port`` (0: a free port) and its URL; call serve_forever()."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # errors only, not a line per request
    app = create_app(project, reviewer, listen=host)
    server = make_server(host, port, app, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    return server, f"http://{shown}:{server.port}/"


def serve(root: Path, reviewer: str, host: str, port: int, allow_remote: bool = False) -> None:
    """Serve until Ctrl+C, printing the URL (no browser is opened).

    Beyond loopback anyone who reaches the address sees the frames: that needs
    ``allow_remote``, said on purpose.
    """
    if host not in LOOPBACK and not allow_remote:
        raise FramehoundError(f"review: --host {host} serves the frames beyond this machine; "
                              "add --allow-remote if that is what you want")
    project = ReviewProject(root)
    server, url = bind(project, reviewer, host, port)
    if host not in LOOPBACK:
        print(f"warning: listening on {host} (--allow-remote): whoever reaches it can see the frames; "
              "decisions still need the page's token", file=sys.stderr)
    print(f"reviewing {len(project.frames)} frames as {reviewer!r} at {url}  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
