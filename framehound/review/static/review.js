// framehound review: frames with their boxes, edited by mouse and keyboard, every decision POSTed at once.
"use strict";

const config = JSON.parse(document.getElementById("config").textContent);
const token = document.querySelector('meta[name="review-token"]').content;
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#0fa3b1", "#f032e6", "#7a9a01", "#9a6324"];
const HIT_PX = 7;         // how close to an edge (screen pixels) a press grabs it
const MIN_BOX_PX = 4;     // a smaller drag is a click, not a new box
const SAVE_DELAY_MS = 400; // keyboard nudges are saved once they pause

const PER_PAGE = config.per_page;
const MASK = config.policy !== "keep";  // a decision leaves unboxed, undismissed objects masked
const KINDS = ["proposed", "dimmed", "unlabelled"];

const state = { status: "all", cls: "", video: "", page: 0, pages: 1, frames: [], focus: 0, queue: null,
                selected: null, drag: null, hover: null, newClass: config.classes[0] };

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, text = "") => {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
};
const copy = (boxes) => boxes.map((b) => ({ ...b }));
const color = (name) => COLORS[Math.max(config.classes.indexOf(name), 0) % COLORS.length];

// ---- talking to the server ----------------------------------------------------------------------

// A view's queue is fixed when the view is opened: later pages are asked for by id, so frames that
// leave the view as they are decided (not yet reviewed) never shift the next ones out of reach.
async function load(page, focus = 0, fresh = false) {
  await flushSaves();
  let query;
  if (state.queue && !fresh) {
    page = clamp(page, 0, Math.max(Math.ceil(state.queue.length / PER_PAGE), 1) - 1);
    query = new URLSearchParams(state.queue.slice(page * PER_PAGE, (page + 1) * PER_PAGE).map((id) => ["id", id]));
  } else {
    query = new URLSearchParams({ status: state.status, class: state.cls, video: state.video, page,
                                  per_page: PER_PAGE });
  }
  const response = await fetch(`/api/frames?${query}`);
  if (!response.ok) return notify(`could not load frames (${response.status})`, true);
  const data = await response.json();
  if (data.queue) state.queue = data.queue;
  state.page = data.page ?? page;
  state.pages = Math.max(Math.ceil(state.queue.length / PER_PAGE), 1);
  state.frames = data.frames.map(frameState);
  state.selected = null;
  state.focus = focus < 0 ? state.frames.length - 1 : Math.min(focus, state.frames.length - 1);
  $("#page-label").textContent = `page ${state.page + 1} / ${state.pages} · ${state.queue.length} frames`;
  showProgress(data.progress);
  render();
}

function frameState(d) {
  const decision = d.decision;
  const dismissed = decision ? copy(decision.dismissed) : [];
  const gone = (b) => dismissed.some((x) => x.class_name === b.class_name && iou(x, b) >= 0.5);
  const boxes = copy(decision && decision.verdict !== "rejected" ? decision.boxes : d.proposed);
  const kept = (b) => !gone(b) && !boxes.some((x) => x.class_name === b.class_name && iou(x, b) >= 0.5);
  return { data: d, verdict: decision ? decision.verdict : null, base: decision ? decision.version : null,
           boxes, dimmed: copy(d.dimmed).filter(kept), unlabelled: copy(d.unlabelled).filter(kept), dismissed,
           timer: null, confirm: false };
}

function iou(a, b) {
  const w = Math.min(a.x_max, b.x_max) - Math.max(a.x_min, b.x_min);
  const h = Math.min(a.y_max, b.y_max) - Math.max(a.y_min, b.y_min);
  const inter = w > 0 && h > 0 ? w * h : 0;
  return inter ? inter / (area(a) + area(b) - inter) : 0;
}

let saving = Promise.resolve();  // decisions go out one after another, so the server sees them in order
let unsaved = 0;

function post(frame, body) {
  setUnsaved(+1);
  const send = async () => {  // the body is made when it is sent: it names the decision the last save made
    const payload = JSON.stringify({ frame_id: frame.data.frame_id, sha256: frame.data.sha256, base: frame.base,
                                     ...body() });
    try {
      const response = await fetch("/api/decisions", {
        method: "POST", keepalive: true, body: payload,
        headers: { "Content-Type": "application/json", "X-Review-Token": token },
      });
      if (!response.ok) {
        const reason = (await response.json().catch(() => ({}))).error || response.status;
        frame.card.classList.toggle("conflict", response.status === 409);
        return notify(`not saved: ${reason}`, true);
      }
      const data = await response.json();
      frame.verdict = data.decision.verdict;
      frame.base = data.decision.version;
      frame.data.decision = data.decision;
      showProgress(data.progress);
      drawHeader(frame);
      notify(`${frame.data.frame_id}: ${frame.verdict}`);
    } catch (error) {
      notify(`not saved: ${error}`, true);
    } finally {
      setUnsaved(-1);
    }
  };
  saving = saving.then(send);
  return saving;
}

function setUnsaved(step) {
  unsaved += step;
  document.body.dataset.unsaved = unsaved;
}

function save(frame, background = false) {  // accept the frame with the boxes it shows now
  clearTimeout(frame.timer);
  frame.timer = null;
  if (!frame.boxes.length && seen(frame) && !background) {  // an edit left no box: `a` decides, not a timer
    frame.asked = true;
    return Promise.resolve(notify(`${frame.data.frame_id}: no box left, but the detector saw ${seen(frame)} ` +
      "object(s): press a to save it as a background image (not saved yet)", true));
  }
  // the server takes each box's confidence from the proposal
  return post(frame, () => ({ boxes: frame.boxes, dismissed: frame.dismissed, background }));
}

function seen(frame) {  // what the detector saw that the person neither boxed nor dismissed
  return frame.dimmed.length + frame.unlabelled.length + frame.data.faint;
}

// `a`: no silent background image where the detector saw something. An edit that left no box already
// asked (save() says so); a frame that never had one asks now, and a second `a` confirms.
function accept(frame) {
  const empty = !frame.boxes.length && seen(frame) > 0;
  if (empty && !frame.confirm && !frame.asked) {
    frame.confirm = true;
    notify(`${frame.data.frame_id}: no box, but the detector saw ${seen(frame)} object(s): press a again to save ` +
           "it as a background image, or dismiss each (d)", true);
    return Promise.resolve(false);
  }
  frame.confirm = false;
  frame.asked = false;
  return save(frame, empty).then(() => true);
}

function saveSoon(frame) {
  clearTimeout(frame.timer);
  frame.timer = setTimeout(() => save(frame), SAVE_DELAY_MS);
}

function flushSaves() {
  return Promise.all(state.frames.filter((f) => f.timer).map(save));
}

function reject(frame) {
  clearTimeout(frame.timer);
  frame.timer = null;
  state.selected = null;
  return post(frame, () => ({ verdict: "rejected" })).then(() => drawFrame(frame));
}

// ---- rendering ----------------------------------------------------------------------------------

function showProgress(p) {
  const share = p.kept_share == null ? "–" : `${Math.round(p.kept_share * 100)}%`;
  const bar = el("span", { class: "bar", title: `${p.reviewed} of ${p.total} frames reviewed` });
  const filled = el("span");
  filled.style.width = `${p.total ? (100 * p.reviewed) / p.total : 0}%`;
  bar.append(filled);
  const text = el("span", {}, `reviewed ${p.reviewed} / ${p.total} frames · accepted ${p.frames.accepted} · ` +
    `edited ${p.frames.edited} · rejected ${p.frames.rejected} · kept ${p.kept} of ${p.proposed} ` +
    `proposed boxes (${share})` + (p.held ? ` · held ${p.held}` : "") +
    (p.changed ? ` · picture changed ${p.changed}` : ""));
  $("#progress").replaceChildren(bar, text);
}

function render() {
  const list = $("#frames");
  list.replaceChildren();
  let video = null;
  state.frames.forEach((frame, index) => {
    if (frame.data.video_id !== video) {
      video = frame.data.video_id;
      list.append(el("h2", { class: "video" }, `video ${video}`));
    }
    list.append(buildCard(frame, index));
  });
  if (!state.frames.length) list.append(el("p", {}, "No frame in this view."));
  focusFrame(state.focus);
}

function buildCard(frame, index) {
  const d = frame.data;
  const card = el("article", { class: "frame", "data-frame-id": d.frame_id, tabindex: "-1" });
  const header = el("header");
  const seconds = (d.t_ms / 1000).toFixed(1);
  header.append(el("span", { class: "fid" }, d.frame_id), el("span", { class: "when" }, `${seconds} s`),
    el("span", { class: "notes" }), el("span", { class: "badge" }));
  const stage = el("div", { class: "stage" });
  const img = el("img", { src: d.image, alt: d.frame_id, width: d.width, height: d.height, draggable: "false" });
  img.addEventListener("error", () => notify(`${d.frame_id}: its picture cannot be shown (the pipeline outputs ` +
                                             "changed, or a rerun is under way): reload the page", true));
  const svg = el("svg:svg", { viewBox: `0 0 ${d.width} ${d.height}`, preserveAspectRatio: "none" });
  svg.addEventListener("mousedown", (ev) => startDrag(ev, index));
  svg.addEventListener("mousemove", (ev) => { state.hover = { frame, point: toImage(frame, ev) }; });
  svg.addEventListener("mouseleave", () => { state.hover = null; });
  stage.append(img, svg);
  const footer = el("footer");
  const accept = el("button", { type: "button", class: "accept", title: "accept the frame with these boxes (a)" },
    "Accept");
  const rejectButton = el("button", { type: "button", class: "reject", title: "reject the frame (r)" }, "Reject");
  const select = el("select", { class: "cls", title: "class of the selected box, or of the next box drawn (1–9)" });
  config.classes.forEach((name, i) => select.append(el("option", { value: name }, `${i + 1} ${name}`)));
  const remove = el("button", { type: "button", class: "delete", title: "delete the selected box (x, Delete)" },
    "Delete box");
  const promote = el("button", { type: "button", class: "promote", title: "keep the selected dimmed box (p)" },
    "Promote");
  const dismiss = el("button", { type: "button", class: "dismiss",
                                 title: "the selected unlabelled object or dimmed box is not an object (d)" }, "Dismiss");
  footer.append(accept, rejectButton, select, remove, promote, dismiss, el("span", { class: "count" }));
  accept.addEventListener("click", () => { focusFrame(index); accept(frame); });
  dismiss.addEventListener("click", () => { focusFrame(index); dismissSelected(); });
  rejectButton.addEventListener("click", () => { focusFrame(index); reject(frame); });
  remove.addEventListener("click", () => { focusFrame(index); deleteSelected(); });
  promote.addEventListener("click", () => { focusFrame(index); promoteSelected(); });
  select.addEventListener("change", () => { focusFrame(index); setClass(select.value); select.blur(); });
  card.addEventListener("mousedown", () => { if (state.focus !== index) focusFrame(index); });
  card.append(header, stage, footer);
  frame.card = card;
  frame.svg = svg;
  drawFrame(frame);  // draws the header too
  return card;
}

function drawHeader(frame) {
  const badge = $(".badge", frame.card);
  const d = frame.data;
  const decision = frame.verdict || (d.held ? "held" : "unreviewed");
  badge.className = `badge ${decision}`;
  badge.textContent = decision;
  badge.title = frame.verdict ? "" : d.held ? "held out of the dataset until you decide (filter.incomplete: review)"
                                           : d.in_dataset ? "in the dataset as the rules left it" : "not in the dataset";
  const notes = [];
  if (d.changed_picture && !frame.verdict) notes.push("picture changed: its earlier decision is not applied");
  const missing = d.decision ? d.decision.missing_classes : [];
  if (missing.length) notes.push(`not reviewed for ${missing.join(", ")}`);
  $(".notes", frame.card).textContent = notes.join(" · ");
  frame.card.classList.toggle("rejected", frame.verdict === "rejected");
  const n = frame.boxes.length;
  const masked = MASK ? frame.unlabelled.length : 0;
  $(".count", frame.card).textContent = `${n} box${n === 1 ? "" : "es"}` +
    (masked ? ` · ${masked} masked` : "") + (frame.dimmed.length ? ` · ${frame.dimmed.length} dimmed` : "") +
    (frame.dismissed.length ? ` · ${frame.dismissed.length} dismissed` : "");
}

function drawFrame(frame) {
  const svg = frame.svg;
  svg.replaceChildren();
  const scale = frame.data.width / (svg.clientWidth || frame.data.width);
  const font = 13 * scale;
  const selected = state.frames[state.focus] === frame ? state.selected : null;
  const draw = (box, kind, index) => {
    const isSelected = selected && selected.kind === kind && selected.index === index;
    const g = el("svg:g", { class: `box ${kind}${isSelected ? " selected" : ""}`, "data-class": box.class_name });
    const w = box.x_max - box.x_min;
    const h = box.y_max - box.y_min;
    g.append(el("svg:rect", { class: "outline", x: box.x_min, y: box.y_min, width: w, height: h,
                              stroke: color(box.class_name) }));
    const named = kind === "unlabelled" ? `${box.class_name}? masked` : box.class_name;
    const label = box.confidence == null || (kind === "unlabelled" && !box.confidence) ? `${named} ✎`
      : `${named} ${box.confidence.toFixed(2)}`;
    const tagY = box.y_min >= font * 1.3 ? box.y_min - font * 1.3 : box.y_min;
    g.append(el("svg:rect", { class: "tag", x: box.x_min, y: tagY, width: label.length * font * 0.62 + font * 0.5,
                              height: font * 1.3, fill: color(box.class_name) }));
    g.append(el("svg:text", { x: box.x_min + font * 0.25, y: tagY + font * 1.02, "font-size": font }, label));
    if (isSelected) {
      for (const [x, y] of [[box.x_min, box.y_min], [box.x_max, box.y_min], [box.x_min, box.y_max],
                            [box.x_max, box.y_max]]) {
        g.append(el("svg:rect", { class: "handle", x: x - 3 * scale, y: y - 3 * scale, width: 6 * scale,
                                  height: 6 * scale }));
      }
    }
    svg.append(g);
  };
  if (MASK && frame.unlabelled.length) drawMask(frame, svg);
  frame.dimmed.forEach((box, i) => draw(box, "dimmed", i));
  frame.unlabelled.forEach((box, i) => draw(box, "unlabelled", i));
  frame.boxes.forEach((box, i) => draw(box, "proposed", i));
  const selectedBox = selected && boxOf(frame, selected);
  $(".cls", frame.card).value = selectedBox ? selectedBox.class_name : state.newClass;
  drawHeader(frame);
}

// The grey the dataset will get: unlabelled objects outside every box (filter.completeness's mask).
function drawMask(frame, svg) {
  const id = `mask-${frame.data.frame_id.replace(/[^\w-]/g, "_")}`;
  const { width: w, height: h } = frame.data;
  const mask = el("svg:mask", { id, maskUnits: "userSpaceOnUse", x: 0, y: 0, width: w, height: h });
  mask.append(el("svg:rect", { x: 0, y: 0, width: w, height: h, fill: "white" }));
  for (const b of frame.boxes) {
    mask.append(el("svg:rect", { x: b.x_min, y: b.y_min, width: Math.max(b.x_max - b.x_min, 0),
                                 height: Math.max(b.y_max - b.y_min, 0),
                                 fill: "black" }));
  }
  const grey = el("svg:g", { class: "mask", mask: `url(#${id})` });
  for (const b of frame.unlabelled) {
    grey.append(el("svg:rect", { x: b.x_min, y: b.y_min, width: b.x_max - b.x_min, height: b.y_max - b.y_min }));
  }
  const defs = el("svg:defs");
  defs.append(mask);
  svg.append(defs, grey);
}

function focusFrame(index) {
  if (!state.frames.length) return;
  const previous = state.frames[state.focus];
  if (index !== state.focus) state.selected = null;
  state.focus = Math.max(0, Math.min(index, state.frames.length - 1));
  state.frames.forEach((f, i) => f.card.classList.toggle("focused", i === state.focus));
  if (previous && previous !== state.frames[state.focus]) drawFrame(previous);
  const frame = state.frames[state.focus];
  drawFrame(frame);
  frame.card.scrollIntoView({ block: "nearest" });
}

function notify(text, error = false) {
  const status = $("#status");
  status.textContent = text;
  status.className = `show${error ? " error" : ""}`;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { status.className = ""; }, error ? 6000 : 1500);
}

// ---- editing ------------------------------------------------------------------------------------

const current = () => state.frames[state.focus];
const listOf = (frame, kind) => ({ proposed: frame.boxes, dimmed: frame.dimmed, unlabelled: frame.unlabelled })[kind];
const boxOf = (frame, sel) => listOf(frame, sel.kind)[sel.index];

function edited(frame, now = true) {
  drawFrame(frame);
  if (now) save(frame); else saveSoon(frame);
}

function promote(frame, sel) {  // a dimmed box or unlabelled object becomes a box; returns its new selection
  if (sel.kind === "proposed") return sel;
  const [box] = listOf(frame, sel.kind).splice(sel.index, 1);
  if (sel.kind === "unlabelled") delete box.reason;
  if (!box.confidence) box.confidence = null;  // a tracked miss has no detector box: it is the person's
  frame.boxes.push(box);
  state.selected = { kind: "proposed", index: frame.boxes.length - 1 };
  return state.selected;
}

function hovered(frame) {  // the dimmed box or unlabelled object under the mouse pointer, if any
  if (!state.hover || state.hover.frame !== frame) return null;
  const hit = hitTest(frame, state.hover.point, 0, true);
  return hit && hit.kind !== "proposed" ? { kind: hit.kind, index: hit.index } : null;
}

function candidate(frame) {
  if (state.selected && state.selected.kind !== "proposed") return state.selected;
  return hovered(frame);
}

function promoteSelected() {
  const frame = current();
  const sel = candidate(frame);
  if (!sel) return notify("select (or point at) a dimmed box or unlabelled object first");
  promote(frame, sel);
  edited(frame);
}

function promoteAbove() {  // Shift+P: every dimmed box and unlabelled object at or above the header's bar
  const frame = current();
  const bar = Number($("#promote-bar").value);
  let n = 0;
  for (const kind of ["dimmed", "unlabelled"]) {
    const list = listOf(frame, kind);
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].confidence != null && list[i].confidence >= bar) { promote(frame, { kind, index: i }); n++; }
    }
  }
  state.selected = null;
  if (!n) return notify(`no dimmed box at or above ${bar}`);
  edited(frame);
}

function copyPrevious() {  // `c`: the previous frame's boxes (a slow scene), added where no box of the class is
  const frame = current();
  const fresh = copy(frame.data.previous).filter((p) => !frame.boxes.some((b) => b.class_name === p.class_name &&
                                                                             iou(b, p) >= 0.5));
  if (!fresh.length) return notify("nothing to copy from the previous frame of this video");
  for (const box of fresh) {  // a copied box replaces the masked or dimmed box it lands on
    for (const kind of ["dimmed", "unlabelled"]) {
      const list = listOf(frame, kind);
      for (let i = list.length - 1; i >= 0; i--) if (iou(list[i], box) >= 0.5) list.splice(i, 1);
    }
    frame.boxes.push(box);
  }
  state.selected = null;
  edited(frame);
}

function acceptSure() {  // Shift+A: accept the frames of the page a person only has to glance at
  const bar = Number($("#promote-bar").value);
  const sure = state.frames.filter((f) => !f.verdict && f.boxes.length && !seen(f) &&
                                          f.boxes.every((b) => b.confidence != null && b.confidence >= bar));
  sure.forEach((f) => save(f));
  notify(`accepted ${sure.length} complete, sure frame(s) of this page`);
}

function dismissSelected() {  // "not an object": no box, no mask; the detector's box is remembered as dismissed
  const frame = current();
  const sel = candidate(frame);
  if (!sel) return notify("select (or point at) an unlabelled object or dimmed box first");
  const [box] = listOf(frame, sel.kind).splice(sel.index, 1);
  delete box.reason;
  frame.dismissed.push(box);
  state.selected = null;
  edited(frame);
}

function deleteSelected() {
  const frame = current();
  if (!state.selected || state.selected.kind !== "proposed") return notify("select a box first");
  frame.boxes.splice(state.selected.index, 1);
  state.selected = null;
  edited(frame);
}

function setClass(name) {
  const frame = current();
  if (!state.selected) {
    state.newClass = name;
    return notify(`new boxes: ${name}`);
  }
  const sel = promote(frame, state.selected);
  const box = boxOf(frame, sel);
  if (box.class_name === name) return drawFrame(frame);
  box.class_name = name;
  box.confidence = null;
  state.newClass = name;
  edited(frame);
}

function addBox(frame, box) {
  frame.boxes.push({ class_name: state.newClass, confidence: null, ...box });
  state.selected = { kind: "proposed", index: frame.boxes.length - 1 };
}

function moveWithin(frame, box, from, dx, dy) {  // box = `from` shifted by dx, dy, same size, inside the frame
  const w = from.x_max - from.x_min;
  const h = from.y_max - from.y_min;
  box.x_min = clamp(from.x_min + dx, 0, frame.data.width - w);
  box.y_min = clamp(from.y_min + dy, 0, frame.data.height - h);
  box.x_max = box.x_min + w;
  box.y_max = box.y_min + h;
}

function nudge(dx, dy, resize) {  // keyboard move or resize of the selected box, by 1% of the frame
  const frame = current();
  if (!state.selected) return;
  const box = boxOf(frame, promote(frame, state.selected));
  const stepX = dx * Math.max(1, frame.data.width / 100);
  const stepY = dy * Math.max(1, frame.data.height / 100);
  if (resize) {
    box.x_max = clamp(box.x_max + stepX, box.x_min + 1, frame.data.width);
    box.y_max = clamp(box.y_max + stepY, box.y_min + 1, frame.data.height);
  } else {
    moveWithin(frame, box, box, stepX, stepY);
  }
  box.confidence = null;
  edited(frame, false);
}

const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

// ---- mouse --------------------------------------------------------------------------------------

function toImage(frame, ev) {
  const r = frame.svg.getBoundingClientRect();
  return { x: clamp(((ev.clientX - r.left) / r.width) * frame.data.width, 0, frame.data.width),
           y: clamp(((ev.clientY - r.top) / r.height) * frame.data.height, 0, frame.data.height) };
}

// edges first (to resize), then the smallest box containing p (to move)
function hitTest(frame, p, tolerance, insideOnly = false) {
  const candidates = KINDS.flatMap((kind) => listOf(frame, kind).map((b, i) => ({ kind, index: i, box: b })));
  for (const c of insideOnly ? [] : candidates) {
    const b = c.box;
    const within = (v, lo, hi) => v >= lo - tolerance && v <= hi + tolerance;
    if (!within(p.x, b.x_min, b.x_max) || !within(p.y, b.y_min, b.y_max)) continue;
    const edges = [];
    if (Math.abs(p.x - b.x_min) <= tolerance) edges.push("x_min");
    if (Math.abs(p.x - b.x_max) <= tolerance) edges.push("x_max");
    if (Math.abs(p.y - b.y_min) <= tolerance) edges.push("y_min");
    if (Math.abs(p.y - b.y_max) <= tolerance) edges.push("y_max");
    if (edges.length) return { ...c, edges };
  }
  const inside = candidates.filter(({ box: b }) => p.x >= b.x_min && p.x <= b.x_max && p.y >= b.y_min && p.y <= b.y_max);
  inside.sort((a, b) => area(a.box) - area(b.box) || (a.kind === "proposed" ? -1 : 1));
  return inside.length ? { ...inside[0], edges: [] } : null;
}

const area = (b) => (b.x_max - b.x_min) * (b.y_max - b.y_min);

function startDrag(ev, index) {
  if (ev.button !== 0) return;
  ev.preventDefault();
  focusFrame(index);
  const frame = current();
  const p = toImage(frame, ev);
  const scale = frame.data.width / frame.svg.getBoundingClientRect().width;
  const hit = hitTest(frame, p, HIT_PX * scale);
  if (hit) {
    state.selected = { kind: hit.kind, index: hit.index };
    state.drag = { frame, start: p, mode: hit.edges.length ? "resize" : "move", edges: hit.edges,
                   origin: { ...hit.box }, moved: false };
  } else {
    state.selected = null;
    state.drag = { frame, start: p, mode: "draw", moved: false };
  }
  drawFrame(frame);
}

window.addEventListener("mousemove", (ev) => {
  const drag = state.drag;
  if (!drag) return;
  const frame = drag.frame;
  const p = toImage(frame, ev);
  if (!drag.moved && Math.hypot(p.x - drag.start.x, p.y - drag.start.y) < 2) return;
  if (!drag.moved && drag.mode !== "draw") promote(frame, state.selected);
  drag.moved = true;
  if (drag.mode === "draw") {
    drag.box = { x_min: Math.min(p.x, drag.start.x), y_min: Math.min(p.y, drag.start.y),
                 x_max: Math.max(p.x, drag.start.x), y_max: Math.max(p.y, drag.start.y) };
    drawFrame(frame);
    const preview = el("svg:rect", { class: "outline", x: drag.box.x_min, y: drag.box.y_min,
      width: drag.box.x_max - drag.box.x_min, height: drag.box.y_max - drag.box.y_min,
      stroke: color(state.newClass), fill: "none", "stroke-dasharray": "6 3", "vector-effect": "non-scaling-stroke" });
    frame.svg.append(preview);
    return;
  }
  const box = boxOf(frame, state.selected);
  const o = drag.origin;
  const dx = p.x - drag.start.x;
  const dy = p.y - drag.start.y;
  if (drag.mode === "move") {
    moveWithin(frame, box, o, dx, dy);
  } else {
    for (const edge of drag.edges) box[edge] = o[edge] + (edge.startsWith("x") ? dx : dy);
    [box.x_min, box.x_max] = [Math.min(box.x_min, box.x_max), Math.max(box.x_min, box.x_max)];
    [box.y_min, box.y_max] = [Math.min(box.y_min, box.y_max), Math.max(box.y_min, box.y_max)];
  }
  box.confidence = null;
  drawFrame(frame);
});

window.addEventListener("mouseup", () => {
  const drag = state.drag;
  state.drag = null;
  if (drag && !drag.moved && state.selected && state.selected.kind !== "proposed") {
    promote(drag.frame, state.selected);  // a click on a dimmed box or unlabelled object keeps it
    return edited(drag.frame);
  }
  if (!drag || !drag.moved) return;
  const frame = drag.frame;
  if (drag.mode === "draw") {
    const b = drag.box;
    if (b.x_max - b.x_min < MIN_BOX_PX || b.y_max - b.y_min < MIN_BOX_PX) return drawFrame(frame);
    addBox(frame, b);
  }
  edited(frame);
});

// ---- keyboard -----------------------------------------------------------------------------------

function move(step) {
  const target = state.focus + step;
  if (target >= state.frames.length && state.page < state.pages - 1) return load(state.page + 1, 0);
  if (target < 0 && state.page > 0) return load(state.page - 1, -1);
  focusFrame(target);
}

function cycleBox(step) {  // spatial order: left to right by the box's centre, then top to bottom
  const frame = current();
  const centre = (s) => { const b = boxOf(frame, s); return [b.x_min + b.x_max, b.y_min + b.y_max]; };
  const all = KINDS.flatMap((kind) => listOf(frame, kind).map((_, i) => ({ kind, index: i })));
  all.sort((a, b) => centre(a)[0] - centre(b)[0] || centre(a)[1] - centre(b)[1]);
  if (!all.length) return;
  const at = state.selected ? all.findIndex((s) => s.kind === state.selected.kind && s.index === state.selected.index)
                            : -1;
  state.selected = all[(at + step + all.length) % all.length];
  drawFrame(frame);
}

document.addEventListener("keydown", (ev) => {
  if (ev.target.closest("select, input, textarea") || !state.frames.length || ev.altKey || ev.metaKey) return;
  const frame = current();
  const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  let handled = true;
  if (ev.key in arrows && (ev.shiftKey || ev.ctrlKey) && state.selected) {
    nudge(...arrows[ev.key], ev.ctrlKey);
  } else if (ev.ctrlKey) {
    handled = false;
  } else if (ev.key === "ArrowRight" || ev.key === "ArrowDown" || ev.key === "j") {
    move(1);
  } else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp" || ev.key === "k") {
    move(-1);
  } else if (ev.key === "PageDown") {
    if (state.page < state.pages - 1) load(state.page + 1);
  } else if (ev.key === "PageUp") {
    if (state.page > 0) load(state.page - 1);
  } else if (ev.key === "a") {
    accept(frame).then((saved) => saved && move(1));
  } else if (ev.key === "r") {
    reject(frame).then(() => move(1));
  } else if (ev.key === "Tab") {
    cycleBox(ev.shiftKey ? -1 : 1);
  } else if (ev.key === "x" || ev.key === "Delete" || ev.key === "Backspace") {
    deleteSelected();
  } else if (ev.key === "p") {
    promoteSelected();
  } else if (ev.key === "P") {
    promoteAbove();
  } else if (ev.key === "A") {
    acceptSure();
  } else if (ev.key === "c") {
    copyPrevious();
  } else if (ev.key === "d") {
    dismissSelected();
  } else if (ev.key === "z") {
    document.body.classList.toggle("single");
    setZoom(document.body.classList.contains("single") ? state.zoom || 1 : 1);
  } else if ((ev.key === "+" || ev.key === "=") && document.body.classList.contains("single")) {
    setZoom(Math.min((state.zoom || 1) * 1.5, 6));
  } else if (ev.key === "-" && document.body.classList.contains("single")) {
    setZoom(Math.max((state.zoom || 1) / 1.5, 1));
  } else if (/^[1-9]$/.test(ev.key) && Number(ev.key) <= config.classes.length) {
    setClass(config.classes[Number(ev.key) - 1]);
  } else if (ev.key === "n") {
    const { width: w, height: h } = frame.data;
    addBox(frame, { x_min: w * 0.375, y_min: h * 0.375, x_max: w * 0.625, y_max: h * 0.625 });
    edited(frame);
  } else if (ev.key === "Escape") {
    state.selected = null;
    drawFrame(frame);
  } else {
    handled = false;
  }
  if (handled) ev.preventDefault();
});

function setZoom(zoom) {  // single-frame view: the focused frame alone, its picture zoom times the width
  state.zoom = zoom;
  document.documentElement.style.setProperty("--zoom", zoom);
  const frame = current();
  if (frame) { drawFrame(frame); frame.card.scrollIntoView({ block: "nearest" }); }
}

// ---- start --------------------------------------------------------------------------------------

function setUp() {
  const status = $("#view-status");
  const labels = { all: "all frames", unreviewed: "not yet reviewed", held: "held for review",
                   masked: "with masked objects",
                   changed: "picture changed", accepted: "accepted", edited: "edited", rejected: "rejected" };
  for (const s of config.statuses) status.append(el("option", { value: s }, labels[s] || s));
  for (const c of config.classes) $("#view-class").append(el("option", { value: c }, c));
  for (const v of config.videos) $("#view-video").append(el("option", { value: v }, v));
  const onView = (key) => (ev) => { state[key] = ev.target.value; ev.target.blur(); load(0, 0, true); };
  status.addEventListener("change", onView("status"));
  $("#view-class").addEventListener("change", onView("cls"));
  $("#view-video").addEventListener("change", onView("video"));
  $("#page-prev").addEventListener("click", () => state.page > 0 && load(state.page - 1));
  $("#page-next").addEventListener("click", () => state.page < state.pages - 1 && load(state.page + 1));
  const keys = $("#shortcuts");
  for (const [key, what] of config.shortcuts) keys.append(el("dt", {}, key), el("dd", {}, what));
  const notes = [];
  if (config.unreadable_lines) notes.push(`${config.unreadable_lines} unreadable line(s) in reviews/decisions.jsonl were skipped (a torn write or a hand edit).`);
  if (config.missing_frames) notes.push(`Decisions for ${config.missing_frames} frame(s) not in this run are kept in the log.`);
  if (notes.length) Object.assign($("#notice"), { hidden: false, textContent: notes.join(" ") });
  window.addEventListener("resize", () => state.frames.forEach(drawFrame));
  window.addEventListener("beforeunload", (ev) => {
    flushSaves();
    if (unsaved) ev.preventDefault();  // the browser asks before leaving with decisions still on the way
  });
  setUnsaved(0);
  load(0, 0, true);
}

setUp();
