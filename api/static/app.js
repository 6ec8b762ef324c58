// Cadenza web page: submit a request, follow its event stream, play and download the result.
// The API key lives in localStorage; every request sends it as X-API-Key (so the event stream is
// read with fetch(), which can send headers, instead of EventSource, which cannot).
"use strict";
const API = "/api/v2/compositions";
const GENRES = ["pop", "rock", "funk", "lofi", "house", "ballad", "folk"];
const MOODS = ["happy", "euphoric", "energetic", "calm", "romantic", "hopeful", "nostalgic", "melancholic", "sad",
               "angry", "tense", "dreamy"];
const STAGES = ["plan", "harmony", "lyrics", "melody", "arrangement", "vocals", "render", "master"];
const STAGE_WIDTH = {pending: 0, running: 50, retrying: 40, completed: 100, failed: 100, skipped: 100,
                     compensating: 100, compensated: 100, kept: 100};
const $ = (id) => document.getElementById(id);
let following = null;  // AbortController of the stream being read

function key() { return $("api-key").value.trim(); }
function headers(extra = {}) { return {"X-API-Key": key(), ...extra}; }

async function api(path, options = {}) {
  const response = await fetch(path, {...options, headers: headers(options.headers || {})});
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch (e) { /* not JSON */ }
    const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    const error = new Error(fields || problem.detail || `HTTP ${response.status}`);
    error.status = response.status;
    error.problem = problem;  // the RFC 9457 problem detail, for callers that show more of it
    throw error;
  }
  return response;
}

// The key can come in the address (`cadenza up` prints http://127.0.0.1:8000/#key=cz_...): it is
// stored like a typed key and then removed from the address bar, so it is not bookmarked or shared.
function takeKeyFromAddress() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const given = (fragment.get("key") || "").trim();
  if (!given) return;
  localStorage.setItem("cadenza-api-key", given);
  fragment.delete("key");
  const rest = fragment.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

function setupForm() {
  $("mood").innerHTML = MOODS.map((m) => `<option>${m}</option>`).join("");
  $("genres").insertAdjacentHTML("beforeend", genreInputs("", {[GENRES[0]]: 0.5}));
  takeKeyFromAddress();
  $("api-key").value = localStorage.getItem("cadenza-api-key") || "";
  window.addEventListener("hashchange", () => {  // a #key= address pasted into an open page
    if (!location.hash.includes("key=")) return;
    takeKeyFromAddress();
    $("api-key").value = localStorage.getItem("cadenza-api-key") || "";
    loadHistory();
  });
  $("api-key").addEventListener("change", () => { localStorage.setItem("cadenza-api-key", key()); loadHistory(); });
  $("compose").addEventListener("submit", submit);
  $("refresh").addEventListener("click", loadHistory);
}

// A checkbox and a weight slider per genre (attributes data-<prefix>genre / data-<prefix>weight); `blend`
// maps the genres to check to their weight (0..1).
function genreInputs(prefix, blend) {
  return GENRES.map((g) => {
    const weight = blend[g] === undefined ? 50 : Math.max(1, Math.round(blend[g] * 100));
    return `<div class="genre"><label><input type="checkbox" data-${prefix}genre="${g}" ${g in blend ? "checked" : ""}> ${g}</label>
     <input type="range" min="1" max="100" value="${weight}" data-${prefix}weight="${g}"></div>`;
  }).join("");
}

// The genre blend of the inputs genreInputs(prefix) made inside `root`, its weights normalised to sum
// to exactly 1 (to three decimals).
function genreBlend(root, prefix = "") {
  const chosen = GENRES.filter((g) => root.querySelector(`[data-${prefix}genre=${g}]`).checked);
  const raw = chosen.map((g) => Number(root.querySelector(`[data-${prefix}weight=${g}]`).value));
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => Math.round((w / total) * 1000) / 1000);
  if (weights.length) weights[weights.length - 1] = Math.round((1 - weights.slice(0, -1).reduce((a, b) => a + b, 0)) * 1000) / 1000;
  return chosen.map((g, i) => ({genre: g, weight: weights[i]}));
}

function requestBody() {
  const body = {mood: $("mood").value, genres: genreBlend($("genres")),
                theme: $("theme").value, duration_s: Number($("duration").value), voice: $("voice").value,
                instrumental: $("instrumental").checked};
  if ($("lyrics").value.trim() && !body.instrumental) body.lyrics = $("lyrics").value;
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  return body;
}

async function submit(event) {
  event.preventDefault();
  $("form-error").textContent = "";
  localStorage.setItem("cadenza-api-key", key());
  try {
    const response = await api(API, {method: "POST", body: JSON.stringify(requestBody()),
                                     headers: {"Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID()}});
    const accepted = await response.json();
    show(accepted.id);
    loadHistory();
  } catch (error) {
    $("form-error").textContent = error.message;
  }
}

function renderStages(stages, list = $("stages")) {
  const byName = Object.fromEntries((stages || []).map((s) => [s.stage, s]));
  list.innerHTML = STAGES.map((name) => {
    const s = byName[name] || {status: "pending"};
    const width = STAGE_WIDTH[s.status] ?? 0;
    const detail = [s.status, s.provider, s.duration_ms != null ? `${s.duration_ms} ms` : null,
                    s.attempt > 1 ? `attempt ${s.attempt}` : null].filter(Boolean).join(" · ");
    return `<li class="${s.status}" data-stage="${name}"><span>${name}</span>
            <div class="bar"><div style="width:${width}%"></div></div><small>${detail}</small></li>`;
  }).join("");
}

function setProgress(progress, status) {
  const percent = Math.round(progress * 100);
  $("overall-bar").style.width = `${percent}%`;
  $("overall-label").textContent = `${percent}%`;
  $("status").textContent = status;
}

async function show(id) {
  if (following) following.abort();
  $("current").hidden = false;
  $("result").hidden = true;
  $("current-id").textContent = id.slice(0, 8);
  const composition = await (await api(`${API}/${id}`)).json();
  renderStages(composition.stages);
  setProgress(composition.progress, composition.status);
  if (composition.status === "completed") return showResult(composition);
  if (["failed", "cancelled"].includes(composition.status)) return;
  following = new AbortController();
  follow(id, following.signal).catch((error) => { if (error.name !== "AbortError") $("status").textContent = error.message; });
}

async function follow(id, signal) {
  return readEvents(`${API}/${id}/events`, signal, (type, data) => onEvent(id, type, data));
}

// Read a Server-Sent Events stream at `url` (resuming after the last id when it is cut off) and hand
// each event to `handle(type, data)` until it returns true.
async function readEvents(url, signal, handle) {
  let lastId = null;
  while (!signal.aborted) {
    const extra = lastId ? {"Last-Event-ID": lastId} : {};
    const response = await fetch(url, {headers: headers(extra), signal});
    if (!response.ok) throw new Error(`event stream: HTTP ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const fields = {};
        for (const line of block.split("\n")) {
          const at = line.indexOf(": ");
          if (at > 0) fields[line.slice(0, at)] = line.slice(at + 2);
        }
        if (fields.id) lastId = fields.id;
        if (!fields.data) continue;
        const data = JSON.parse(fields.data);
        if (await handle(fields.event, data)) return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));  // cut off: resume after lastId
  }
}

async function onEvent(id, type, data) {
  if (type === "CompositionProgressed") {
    renderStages(data.stages);
    setProgress(data.progress, `running: ${data.stage} ${data.status}`);
    return false;
  }
  const composition = await (await api(`${API}/${id}`)).json();
  renderStages(composition.stages);
  setProgress(type === "CompositionCompleted" ? 1 : composition.progress, composition.status);
  if (type === "CompositionCompleted") await showResult(composition);
  else $("status").textContent = `${composition.status}: ${(composition.error || {}).message || ""}`;
  loadHistory();
  return true;
}

async function blobUrl(url) {
  return URL.createObjectURL(await (await api(url)).blob());
}

// The song's audio among a composition's (or a revision's) files: the mastered MP3, else a master, else any audio.
function masterAudio(artifacts) {
  return artifacts.find((a) => a.name === "master.mp3")
      || artifacts.find((a) => a.media_type.startsWith("audio/") && a.name.startsWith("master"))
      || artifacts.find((a) => a.media_type.startsWith("audio/"));
}

async function showResult(composition) {
  $("result").hidden = false;
  $("open-studio").dataset.id = composition.id;
  const audio = masterAudio(composition.artifacts);
  if (audio) $("player").src = await blobUrl(audio.url);
  $("downloads").innerHTML = composition.artifacts.map((a) =>
    `<li><a href="#" data-url="${a.url}" data-name="${a.name}">${a.name}</a> (${Math.round(a.size_bytes / 1024)} KiB)</li>`).join("");
  for (const link of $("downloads").querySelectorAll("a")) {
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const anchor = document.createElement("a");
      anchor.href = await blobUrl(link.dataset.url);
      anchor.download = link.dataset.name;
      anchor.click();
    });
  }
  const q = composition.quality || {};
  $("quality").innerHTML = Object.entries(q).filter(([, v]) => v !== null)
    .map(([k, v]) => `<dt>${k.replaceAll("_", " ")}</dt><dd>${typeof v === "number" ? v.toFixed(2) : v}</dd>`).join("");
}

async function loadHistory() {
  if (!key()) return;
  try {
    const page = await (await api(`${API}?limit=20`)).json();
    const body = $("history").querySelector("tbody");
    body.innerHTML = page.items.map((c) =>
      `<tr data-id="${c.id}"><td>${new Date(c.created_at).toLocaleString()}</td><td>${escapeHtml(c.theme || "")}</td>
       <td>${c.status}</td><td>${Math.round(c.progress * 100)}%</td>
       <td>${c.status === "completed" ? `<button type="button" class="studio-open" data-id="${c.id}">studio</button>` : ""}</td></tr>`).join("");
    for (const row of body.querySelectorAll("tr")) row.addEventListener("click", () => show(row.dataset.id));
    for (const button of body.querySelectorAll("button.studio-open")) {
      button.addEventListener("click", (event) => { event.stopPropagation(); openStudio(button.dataset.id); });
    }
  } catch (error) {
    $("form-error").textContent = error.message;
  }
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

setupForm();
loadHistory();
