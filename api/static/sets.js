// DJ sets (issue 9): pick finished songs, build a set (order, transition bars, announcer), follow it,
// then play it with its tracklist (click a track to jump to it; the playing one is marked) and
// download its files. Builds its own section; uses app.js's $, api, blobUrl, escapeHtml and key.
"use strict";

const SETS_API = "/api/v2/sets";
const SET_ENDED = ["completed", "failed", "cancelled"];
const dj = {id: null, timer: null, tracklist: [], picks: 0};

const SETS_HTML = `
  <h2>DJ set <button id="set-refresh" type="button">refresh</button></h2>
  <form id="set-form">
    <fieldset id="set-songs"><legend>Finished songs (pick 2 to 20, in the order to play them)</legend></fieldset>
    <label>Order <select id="set-order"><option value="auto">auto: harmonic mixing, tempo steps, an energy arc</option>
      <option value="given">as picked</option></select></label>
    <label>Transition bars <input id="set-bars" type="number" min="1" max="32" value="8"></label>
    <label><input type="checkbox" id="set-announcer"> Announcer (a spoken line naming each next song)</label>
    <button type="submit" id="set-submit">build the set</button>
    <p id="set-error" class="error" role="alert"></p>
  </form>
  <div id="set-run" hidden>
    <h3>Set <span id="set-id"></span> <button type="button" id="set-cancel">cancel</button></h3>
    <div class="bar overall"><div id="set-bar"></div><span id="set-label">0%</span></div>
    <p id="set-status"></p>
    <div id="set-result" hidden>
      <audio id="set-player" controls preload="auto"></audio>
      <table id="set-tracklist"><thead><tr><th>#</th><th>starts</th><th>song</th></tr></thead><tbody></tbody></table>
      <p id="set-measures"></p>
      <ul id="set-downloads"></ul>
    </div>
  </div>
  <h3>Sets</h3>
  <table id="sets"><thead><tr><th>when</th><th>songs</th><th>status</th><th>progress</th></tr></thead><tbody></tbody></table>`;

function setupSets() {
  const style = document.createElement("style");
  style.textContent = "#set-tracklist tr.playing { font-weight: bold; } #set-songs label { display: block; }";
  document.head.appendChild(style);
  const section = document.createElement("section");
  section.id = "dj";
  section.innerHTML = SETS_HTML;
  document.querySelector("main").appendChild(section);
  $("set-form").addEventListener("submit", submitSet);
  $("set-refresh").addEventListener("click", loadSets);
  $("set-cancel").addEventListener("click", () => api(`${SETS_API}/${dj.id}/cancel`, {method: "POST"})
    .catch((error) => { $("set-error").textContent = error.message; }));
  $("set-player").addEventListener("timeupdate", markPlaying);
  $("set-player").addEventListener("seeked", markPlaying);
  $("api-key").addEventListener("change", loadSets);
  loadSets();
}

function clock(seconds) {
  const m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
  return `${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

function pickedSongs() {
  // in the order they were ticked (data-picked counts up)
  return [...$("set-songs").querySelectorAll("input:checked")]
    .sort((a, b) => Number(a.dataset.picked) - Number(b.dataset.picked)).map((i) => i.value);
}

async function loadSets() {
  if (!key()) return;
  try {
    const songs = await (await api(`${API}?status=completed&limit=100`)).json();
    const box = $("set-songs");
    const ticked = new Set(pickedSongs());
    box.querySelectorAll("label").forEach((l) => l.remove());
    box.insertAdjacentHTML("beforeend", songs.items.map((c) =>
      `<label><input type="checkbox" value="${c.id}" data-picked="0" ${ticked.has(c.id) ? "checked" : ""}> ${escapeHtml(c.theme || c.id)}
       <small>${new Date(c.created_at).toLocaleString()}</small></label>`).join(""));
    box.querySelectorAll("input").forEach((input) => input.addEventListener("change", () => {
      input.dataset.picked = String(++dj.picks);
    }));
    const sets = await (await api(`${SETS_API}?limit=20`)).json();
    const body = $("sets").querySelector("tbody");
    body.innerHTML = sets.items.map((s) =>
      `<tr data-id="${s.id}"><td>${new Date(s.created_at).toLocaleString()}</td>
       <td>${(s.request && s.request.compositions || []).length}</td><td>${s.status}</td>
       <td>${Math.round(s.progress * 100)}%</td></tr>`).join("");
    body.querySelectorAll("tr").forEach((row) => row.addEventListener("click", () => followSet(row.dataset.id)));
  } catch (error) {
    $("set-error").textContent = error.message;
  }
}

async function submitSet(event) {
  event.preventDefault();
  $("set-error").textContent = "";
  const body = {compositions: pickedSongs(), order: $("set-order").value,
                transition_bars: Number($("set-bars").value), announcer: $("set-announcer").checked};
  try {
    const accepted = await (await api(SETS_API, {method: "POST", headers: {"Content-Type": "application/json"},
                                                 body: JSON.stringify(body)})).json();
    followSet(accepted.id);
  } catch (error) {
    $("set-error").textContent = error.message;
  }
}

function followSet(id) {
  dj.id = id;
  clearTimeout(dj.timer);
  $("set-run").hidden = false;
  $("set-cancel").hidden = false;
  delete $("set-run").dataset.status;
  $("set-result").hidden = true;
  $("set-id").textContent = id.slice(0, 8);
  $("set-run").dataset.id = id;
  poll();
}

async function poll() {
  const id = dj.id;
  let set;
  try {
    set = await (await api(`${SETS_API}/${id}`)).json();
  } catch (error) {
    $("set-error").textContent = error.message;
    return;
  }
  if (id !== dj.id) return;
  const percent = Math.round(set.progress * 100);
  $("set-bar").style.width = `${percent}%`;
  $("set-label").textContent = `${percent}%`;
  $("set-status").textContent = set.status + (set.stages.length ? ": " + set.stages.map((s) =>
    `${s.stage.replace("set_", "")} ${s.status}`).join(", ") : "") + (set.error ? ` (${set.error.message})` : "");
  if (!SET_ENDED.includes(set.status)) {
    $("set-run").dataset.status = set.status;
    dj.timer = setTimeout(poll, 500);
    return;
  }
  $("set-cancel").hidden = true;
  if (set.status === "completed") await showSet(set);
  $("set-run").dataset.status = set.status;  // once the page shows it (player, tracklist, files)
  loadSets();
}

async function showSet(set) {
  $("set-result").hidden = false;
  dj.tracklist = set.tracklist;
  const audio = set.artifacts.find((a) => a.name === "set.mp3") || set.artifacts.find((a) => a.name === "set.flac");
  if (audio) $("set-player").src = await blobUrl(audio.url);
  const body = $("set-tracklist").querySelector("tbody");
  body.innerHTML = set.tracklist.map((t) =>
    `<tr data-start="${t.start_s}"><td>${t.position}</td><td>${clock(t.start_s)}</td><td>${escapeHtml(t.title)}</td></tr>`).join("");
  body.querySelectorAll("tr").forEach((row) => row.addEventListener("click", () => {
    $("set-player").currentTime = Number(row.dataset.start);
    $("set-player").play();
  }));
  const r = set.result || {};
  $("set-measures").textContent = `${r.integrated_lufs.toFixed(1)} LUFS, true peak ${r.true_peak_dbtp.toFixed(1)} dBTP, ` +
    `${r.tempo_bpm.toFixed(1)} bpm, beat alignment ${r.beat_alignment_ms.map((x) => x.toFixed(1)).join(" / ")} ms, ` +
    `key distances ${r.key_distances.join(", ")}`;
  $("set-downloads").innerHTML = set.artifacts.map((a) =>
    `<li><a href="#" data-url="${a.url}" data-name="${a.name}">${a.name}</a> (${Math.round(a.size_bytes / 1024)} KiB)</li>`).join("");
  $("set-downloads").querySelectorAll("a").forEach((link) => link.addEventListener("click", async (event) => {
    event.preventDefault();
    const anchor = document.createElement("a");
    anchor.href = await blobUrl(link.dataset.url);
    anchor.download = link.dataset.name;
    anchor.click();
  }));
  markPlaying();
}

function markPlaying() {
  const now = $("set-player").currentTime;
  let current = 0;
  dj.tracklist.forEach((t, i) => { if (now >= t.start_s) current = i; });
  $("set-tracklist").querySelectorAll("tbody tr").forEach((row, i) => row.classList.toggle("playing", i === current));
  $("set-tracklist").dataset.playing = String(current + 1);
}

setupSets();
