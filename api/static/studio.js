// The studio (issue 14): a finished song's form, chords and lyrics; revisions of one stage with the
// user's changes (the lyrics, the voice, a new seed, the genre blend, the mix), each followed live on
// its own event stream; the list of revisions (an earlier one can be deleted); an A/B player that plays
// two revisions side by side and switches between them at the same position.
// Builds on app.js: $, API, GENRES, api, readEvents, renderStages, genreInputs, genreBlend, masterAudio,
// blobUrl, escapeHtml.
"use strict";

const STUDIO_SEED_STAGES = ["plan", "harmony", "lyrics", "melody", "arrangement"];  // the stages that take a seed
const STUDIO_FINISHED = ["completed", "failed", "cancelled"];
const STUDIO_MIX = {vocal_db: 0, reverb: null, brightness: 0, lufs: -14};  // composition/models.py MixOptions
const studio = {id: null, composition: null, revisions: [], following: null, filled: null, active: "a"};

function setupStudio() {
  $("studio-close").addEventListener("click", closeStudio);
  $("open-studio").addEventListener("click", () => openStudio($("open-studio").dataset.id));
  $("studio-seed-stage").innerHTML = STUDIO_SEED_STAGES.map((s) => `<option>${s}</option>`).join("");
  $("revise-lyrics").addEventListener("submit", (e) => reviseWith(e, $("studio-lyrics-replan").checked ? "plan" : "lyrics",
                                                                  {lyrics: $("studio-lyrics-text").value}));
  $("revise-voice").addEventListener("submit", (e) => reviseWith(e, "vocals", {voice: $("studio-voice").value}));
  $("revise-seed").addEventListener("submit", (e) => reviseWith(e, $("studio-seed-stage").value,
                                                                {seed: Number($("studio-seed").value)}));
  $("revise-genres").addEventListener("submit", (e) => reviseWith(e, "arrangement",
                                                                  {genres: genreBlend($("studio-genres"), "studio-")}));
  $("revise-mix").addEventListener("submit", (e) => reviseWith(e, "master", {mix: mixChanges()}));
  for (const name of Object.keys(STUDIO_MIX)) {
    const slider = $(`mix-${name}`);
    slider.addEventListener("input", () => { slider.dataset.set = "true"; showMixValue(name); });
  }
  $("studio-run-cancel").addEventListener("click", cancelRevision);
  for (const side of ["a", "b"]) {
    $(`ab-${side}-pick`).addEventListener("change", () => loadSide(side, true).catch(studioError));
    $(`ab-${side}`).addEventListener("play", () => { studio.active = side; pauseOther(side); showNow(); });
  }
  $("ab-switch").addEventListener("click", () => switchSides().catch(studioError));
  loadVoices();
}

// The voices the API offers, from its OpenAPI document (the request's `voice` enum), into every
// <select data-voices>; the hard-coded options stay if the document cannot be read.
async function loadVoices() {
  try {
    const doc = await (await fetch("/openapi.json")).json();
    const voices = enumOf(doc, doc.components.schemas.CompositionCreate.properties.voice);
    if (!voices.length) return;
    for (const select of document.querySelectorAll("select[data-voices]")) {
      const chosen = select.value;
      select.innerHTML = voices.map((v) => `<option>${escapeHtml(v)}</option>`).join("");
      if (voices.includes(chosen)) select.value = chosen;
    }
  } catch (error) {
    console.warn("voices from /openapi.json:", error);
  }
}

function enumOf(doc, schema) {
  if (!schema) return [];
  if (schema.enum) return schema.enum;
  if (schema.$ref) return enumOf(doc, doc.components.schemas[schema.$ref.split("/").pop()]);
  return (schema.anyOf || schema.allOf || []).flatMap((s) => enumOf(doc, s));
}

// ------------------------------------------------------------------ open, close, load

async function openStudio(id) {
  if (studio.following) studio.following.abort();
  studio.following = null;
  studio.id = id;
  studio.filled = null;
  $("studio").dataset.id = id;
  $("studio").hidden = false;
  $("studio-run").hidden = true;
  setReviseEnabled(true);
  studioError(null);
  for (const side of ["a", "b"]) resetSide(side);
  try {
    await refreshStudio();
    const running = studio.revisions.find((r) => !STUDIO_FINISHED.includes(r.status) && r.number > 0);
    if (running) followRevision(running.number, running.links.events);
  } catch (error) {
    studioError(error);
  }
  $("studio").scrollIntoView({behavior: "smooth", block: "start"});
}

function closeStudio() {
  if (studio.following) studio.following.abort();
  studio.following = null;
  studio.id = null;
  for (const side of ["a", "b"]) resetSide(side);
  $("studio").hidden = true;
}

async function refreshStudio() {
  const id = studio.id;
  const [composition, list] = await Promise.all([
    api(`${API}/${id}`).then((r) => r.json()), api(`${API}/${id}/revisions`).then((r) => r.json())]);
  if (studio.id !== id) return;  // closed or another song opened meanwhile
  studio.composition = composition;
  studio.revisions = list.items;
  renderSong(composition);
  renderRevisions();
  await renderPlayer();
}

// ------------------------------------------------------------------ the song

function renderSong(c) {
  const request = c.request || {};
  const plan = c.plan || {};
  $("studio-title").textContent = `${request.theme || ""} (${c.id.slice(0, 8)})`;
  $("studio-summary").textContent = [
    plan.key && `${plan.key} ${plan.mode}`, plan.tempo_bpm && `${Math.round(plan.tempo_bpm)} bpm`,
    plan.beats_per_bar && `${plan.beats_per_bar}/${plan.beat_unit || 4}`,
    plan.duration_s && `${Math.round(plan.duration_s)} s`, request.instrumental ? "instrumental" : `voice ${request.voice}`,
    `revision ${c.revision}`].filter(Boolean).join(" · ");
  const chords = Object.fromEntries((c.chords || []).map((s) => [s.section, s.chords]));
  $("studio-form").querySelector("tbody").innerHTML = (plan.form || []).map((s) => `
    <tr data-section="${escapeHtml(s.name)}"><td>${escapeHtml(s.name)}</td><td>${escapeHtml(s.kind)}</td><td>${s.bars}</td>
      <td><div class="bar energy"><div style="width:${Math.round(s.energy * 100)}%"></div><span>${s.energy.toFixed(2)}</span></div></td>
      <td>${s.vocals ? "sung" : "-"}</td>
      <td class="chords">${(chords[s.name] || []).map((ch) => `${escapeHtml(ch.symbol)}<sub>${ch.beats}</sub>`).join(" ")}</td></tr>`).join("");
  $("studio-lyrics").innerHTML = (c.lyrics || []).map((s) => `
    <div class="stanza" data-section="${escapeHtml(s.section)}"><h4>${escapeHtml(s.section)}</h4>
      <p>${s.lines.map(escapeHtml).join("<br>")}</p></div>`).join("") || "<p>(instrumental)</p>";
  for (const id of ["revise-lyrics", "revise-voice"]) $(id).hidden = Boolean(request.instrumental);
  const filled = `${c.id}:${c.revision}`;
  if (studio.filled !== filled) {  // the controls start from the current revision (not on every refresh)
    studio.filled = filled;
    fillControls(c);
  }
}

// The lyrics as the user may edit them: each section under its structure tag, so the form is kept.
function editableLyrics(c) {
  const kinds = Object.fromEntries(((c.plan || {}).form || []).map((s) => [s.name, s.kind]));
  return (c.lyrics || []).map((s) => `[${kinds[s.section] || "verse"}]\n${s.lines.join("\n")}`).join("\n\n");
}

function fillControls(c) {
  const request = c.request || {};
  $("studio-lyrics-text").value = editableLyrics(c);
  $("studio-lyrics-replan").checked = false;
  if (request.voice) $("studio-voice").value = request.voice;
  $("studio-seed").value = Math.floor(Math.random() * 1_000_000);
  const blend = Object.fromEntries((request.genres || []).map((g) => [g.genre, g.weight]));
  $("studio-genres").querySelectorAll(".genre").forEach((el) => el.remove());
  $("studio-genres").insertAdjacentHTML("beforeend", genreInputs("studio-", blend));
  const mix = {...STUDIO_MIX, ...(request.mix || {})};
  for (const name of Object.keys(STUDIO_MIX)) {
    const slider = $(`mix-${name}`);
    slider.dataset.set = String(mix[name] !== null);
    if (mix[name] !== null) slider.value = mix[name];
    showMixValue(name);
  }
}

function showMixValue(name) {
  const slider = $(`mix-${name}`);
  $(`mix-${name}-value`).textContent = slider.dataset.set === "true" ? slider.value : "the genre's";
}

// The mix to send: every slider's value, except a reverb never set (null: the genre's own).
function mixChanges() {
  return Object.fromEntries(Object.keys(STUDIO_MIX).map((name) => {
    const slider = $(`mix-${name}`);
    return [name, slider.dataset.set === "true" ? Number(slider.value) : null];
  }));
}

// ------------------------------------------------------------------ revise and follow

async function reviseWith(event, stage, changes) {
  event.preventDefault();
  studioError(null);
  try {
    const response = await api(`${API}/${studio.id}/revisions`, {
      method: "POST", body: JSON.stringify({stage, changes}),
      headers: {"Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID()}});
    const accepted = await response.json();
    await refreshStudio();
    followRevision(accepted.number, accepted.links.events);
  } catch (error) {
    studioError(error);
  }
}

function followRevision(number, eventsUrl) {
  if (studio.following) studio.following.abort();
  const controller = new AbortController();
  studio.following = controller;
  studio.runNumber = number;
  $("studio-run").hidden = false;
  $("studio-run").dataset.number = number;
  $("studio-run").dataset.status = "accepted";
  $("studio-run-number").textContent = number;
  $("studio-run-cancel").disabled = false;
  setReviseEnabled(false);
  const revision = studio.revisions.find((r) => r.number === number);
  renderStages(revision ? revision.stages : [], $("studio-run-stages"));
  setRunProgress(revision ? revision.progress : 0, revision ? revision.status : "accepted");
  readEvents(eventsUrl, controller.signal, (type, data) => onRevisionEvent(number, type, data))
    .catch((error) => { if (error.name !== "AbortError") { setReviseEnabled(true); studioError(error); } });
}

async function onRevisionEvent(number, type, data) {
  if (type === "CompositionProgressed") {
    renderStages(data.stages, $("studio-run-stages"));
    setRunProgress(data.progress, `running: ${data.stage} ${data.status}`, "running");
    const row = $("revisions").querySelector(`tr[data-number="${number}"]`);
    if (row) {
      row.querySelector(".status").textContent = "running";
      row.querySelector(".progress").textContent = `${Math.round(data.progress * 100)}%`;
    }
    return false;
  }
  const outcome = {CompositionCompleted: "completed", CompositionFailed: "failed", CompositionCancelled: "cancelled"}[type];
  if (!outcome) return false;
  $("studio-run-cancel").disabled = true;
  setReviseEnabled(true);
  await refreshStudio();
  const revision = studio.revisions.find((r) => r.number === number) || {stages: [], progress: 0};
  renderStages(revision.stages, $("studio-run-stages"));
  const reason = outcome === "failed" ? `: ${(data.error || revision.error || {}).message || ""}` : "";
  setRunProgress(outcome === "completed" ? 1 : revision.progress, `${outcome}${reason}`, outcome);
  return true;
}

// One revision at a time (the API answers 409 to a second): the revise buttons wait for the running one.
function setReviseEnabled(enabled) {
  for (const button of document.querySelectorAll(".studio-controls button[type=submit]")) button.disabled = !enabled;
}

function setRunProgress(progress, text, status) {
  const percent = Math.round(progress * 100);
  $("studio-run-bar").style.width = `${percent}%`;
  $("studio-run-label").textContent = `${percent}%`;
  $("studio-run-status").textContent = text;
  if (status) $("studio-run").dataset.status = status;
}

async function cancelRevision() {
  studioError(null);
  try {
    await api(`${API}/${studio.id}/revisions/${studio.runNumber}/cancel`, {method: "POST"});
    $("studio-run-status").textContent = "cancelling";
  } catch (error) {
    studioError(error);
  }
}

// ------------------------------------------------------------------ the revisions

function changesText(changes) {
  return Object.entries(changes || {}).map(([name, value]) => {
    if (name === "lyrics") return `lyrics "${String(value).replace(/\s+/g, " ").slice(0, 40)}"`;
    if (name === "genres") return `genres ${value.map((g) => `${g.genre} ${g.weight}`).join(", ")}`;
    if (name === "mix") return `mix ${Object.entries(value || {}).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(", ")}`;
    return `${name} ${value}`;
  }).join("; ");
}

function renderRevisions() {
  const body = $("revisions").querySelector("tbody");
  body.innerHTML = studio.revisions.map((r) => {
    const status = r.deleted ? "deleted" : r.status;
    const deletable = !r.current && !r.deleted && STUDIO_FINISHED.includes(r.status);
    return `<tr data-number="${r.number}" class="${status}${r.current ? " current" : ""}">
      <td>${r.number}${r.current ? " <b>current</b>" : ""}</td><td>${r.stage ? `${r.stage} onwards` : "composed"}</td>
      <td>${escapeHtml(changesText(r.changes))}</td>
      <td><span class="status">${status}</span>${r.error ? ` <small class="error">${escapeHtml(r.error.message || "")}</small>` : ""}</td>
      <td class="progress">${Math.round(r.progress * 100)}%</td>
      <td>${r.duration_ms != null ? `${(r.duration_ms / 1000).toFixed(1)} s` : ""}</td>
      <td><button type="button" class="revision-delete" data-number="${r.number}" ${deletable ? "" : "disabled"}>delete</button></td></tr>`;
  }).join("");
  for (const button of body.querySelectorAll("button.revision-delete")) {
    button.addEventListener("click", () => deleteRevision(Number(button.dataset.number)));
  }
}

// Delete an earlier revision, then watch the list until it shows the revision deleted (the files are
// removed by the stage workers, so the answer is 202 and the read model follows).
async function deleteRevision(number) {
  studioError(null);
  const id = studio.id;
  try {
    await api(`${API}/${id}/revisions/${number}`, {method: "DELETE"});
    const row = $("revisions").querySelector(`tr[data-number="${number}"]`);
    if (row) row.querySelector(".status").textContent = "deleting";
    for (let i = 0; i < 60 && studio.id === id; i++) {
      await refreshStudio();
      if ((studio.revisions.find((r) => r.number === number) || {}).deleted) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } catch (error) {
    studioError(error);
  }
}

// ------------------------------------------------------------------ the A/B player

function playable() {
  return studio.revisions.filter((r) => r.status === "completed" && !r.deleted && masterAudio(r.artifacts));
}

// The choices of both sides; by default A is the current revision and B the latest other one.
async function renderPlayer() {
  const choices = playable();
  const numbers = choices.map((r) => r.number);
  const current = (choices.find((r) => r.current) || choices[choices.length - 1] || {}).number;
  const other = [...choices].reverse().find((r) => r.number !== current);
  const defaults = {a: current, b: other ? other.number : current};
  for (const side of ["a", "b"]) {
    const pick = $(`ab-${side}-pick`);
    const chosen = Number(pick.value);
    pick.innerHTML = choices.map((r) =>
      `<option value="${r.number}">revision ${r.number}${r.current ? " (current)" : ""}${r.stage ? ` · ${r.stage}` : ""}</option>`).join("");
    const keep = pick.dataset.user === "true" && numbers.includes(chosen);
    if (defaults[side] !== undefined) pick.value = String(keep ? chosen : defaults[side]);
  }
  await Promise.all(["a", "b"].map((side) => loadSide(side)));
  showNow();
}

async function loadSide(side, fromUser = false) {
  const pick = $(`ab-${side}-pick`);
  if (fromUser) pick.dataset.user = "true";
  const revision = playable().find((r) => String(r.number) === pick.value);
  const audio = $(`ab-${side}`);
  if (!revision) return resetSide(side);
  const file = masterAudio(revision.artifacts);
  if (audio.dataset.url === file.url) return;
  const src = await blobUrl(file.url);
  if (audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
  audio.src = src;
  audio.dataset.url = file.url;
  audio.dataset.sha256 = file.sha256;
  audio.dataset.revision = revision.number;
}

function resetSide(side) {
  const audio = $(`ab-${side}`);
  audio.pause();
  if (audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
  audio.removeAttribute("src");
  for (const name of ["url", "sha256", "revision"]) delete audio.dataset[name];
  audio.load();
}

function pauseOther(side) {
  const other = $(`ab-${side === "a" ? "b" : "a"}`);
  if (!other.paused) other.pause();
}

// Switch to the other side at the same position, playing if the side switched from was playing.
async function switchSides() {
  const from = $(`ab-${studio.active}`);
  const side = studio.active === "a" ? "b" : "a";
  const to = $(`ab-${side}`);
  if (!to.dataset.url) return;
  const position = from.currentTime;
  const playing = !from.paused && !from.ended;
  from.pause();
  if (to.readyState < 1) await new Promise((resolve) => to.addEventListener("loadedmetadata", resolve, {once: true}));
  to.currentTime = Math.min(position, to.duration || position);
  studio.active = side;
  if (playing) await to.play();
  showNow();
}

function showNow() {
  const audio = $(`ab-${studio.active}`);
  $("ab-now").textContent = audio.dataset.revision !== undefined
    ? `listening to ${studio.active.toUpperCase()}: revision ${audio.dataset.revision}` : "";
  for (const side of ["a", "b"]) {
    document.querySelector(`.ab-side[data-side="${side}"]`).classList.toggle("active", side === studio.active);
  }
}

// ------------------------------------------------------------------ errors

// An error as the API's problem detail: its title, then each field's message (or the detail).
function studioError(error) {
  const box = $("studio-error");
  if (!error) {
    box.textContent = "";
    delete box.dataset.fields;
    return;
  }
  const problem = error.problem || {};
  box.textContent = problem.title ? `${problem.title}: ${error.message}` : error.message;
  box.dataset.fields = (problem.errors || []).map((e) => e.field).join(" ");
}

setupStudio();
