// Your own voice (issue 9): record it (MediaRecorder) or upload a file, follow the analysis, hear
// the preview sung with the profile, choose it as the voice of a song, delete it. A recording is
// decoded in the page (Web Audio) and sent as 16-bit WAV: the server reads WAV, FLAC and MP3, not
// the browser's WebM/Opus. Uses api(), $, key(), blobUrl() and escapeHtml() from app.js.
"use strict";
const VOICES_API = "/api/v2/voices";
const voices = {recorder: null, chunks: [], recorded: null, polling: null};

function setupVoices() {
  $("voice-record").addEventListener("click", toggleRecording);
  $("voice-form").addEventListener("submit", uploadVoice);
  $("voice-refresh").addEventListener("click", loadVoices);
  $("api-key").addEventListener("change", loadVoices);
  for (const select of document.querySelectorAll("select[data-voices]")) keepProfileOptions(select);
  loadVoices();
}

async function toggleRecording() {
  if (voices.recorder) { voices.recorder.stop(); return; }
  $("voice-error").textContent = "";
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: true});
    voices.chunks = [];
    voices.recorder = new MediaRecorder(stream);
    voices.recorder.addEventListener("dataavailable", (e) => voices.chunks.push(e.data));
    voices.recorder.addEventListener("stop", async () => {
      stream.getTracks().forEach((t) => t.stop());
      voices.recorder = null;
      $("voice-record").textContent = "record";
      voices.recorded = await wavOf(new Blob(voices.chunks));
      $("voice-recorded").textContent = `recorded ${voices.recorded.seconds.toFixed(1)} s`;
      $("voice-take").src = URL.createObjectURL(voices.recorded.blob);
    });
    voices.recorder.start();
    $("voice-record").textContent = "stop";
    $("voice-recorded").textContent = "recording...";
  } catch (error) {
    $("voice-error").textContent = `cannot record: ${error.message}`;
  }
}

// The recording as mono 16-bit WAV at its own sample rate.
async function wavOf(blob) {
  const context = new AudioContext();
  const audio = await context.decodeAudioData(await blob.arrayBuffer());
  context.close();
  const samples = new Float32Array(audio.length);
  for (let c = 0; c < audio.numberOfChannels; c++) {
    audio.getChannelData(c).forEach((v, i) => { samples[i] += v / audio.numberOfChannels; });
  }
  const view = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const text = (at, s) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + 2 * samples.length, true); text(8, "WAVEfmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, audio.sampleRate, true); view.setUint32(28, 2 * audio.sampleRate, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, 2 * samples.length, true);
  samples.forEach((v, i) => view.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, v)) * 32767, true));
  return {blob: new Blob([view], {type: "audio/wav"}), seconds: audio.duration};
}

async function uploadVoice(event) {
  event.preventDefault();
  $("voice-error").textContent = "";
  const file = $("voice-file").files[0];
  const audio = file || (voices.recorded && voices.recorded.blob);
  if (!audio) { $("voice-error").textContent = "record your voice or choose a file first"; return; }
  const form = new FormData();
  form.append("audio", audio, file ? file.name : "recording.wav");
  form.append("name", $("voice-name").value);
  form.append("consent", $("voice-consent").checked ? "true" : "false");
  try {
    await api(VOICES_API, {method: "POST", body: form});
    $("voice-file").value = "";
    voices.recorded = null;
    $("voice-recorded").textContent = "";
    await loadVoices();
  } catch (error) {
    $("voice-error").textContent = error.message;
  }
}

async function loadVoices() {
  if (!key()) return;
  let items = [];
  try {
    items = (await (await api(VOICES_API)).json()).items;
  } catch (error) {
    $("voice-error").textContent = error.message;
    return;
  }
  const body = $("voice-list").querySelector("tbody");
  body.innerHTML = items.map((v) =>
    `<tr data-id="${v.id}" data-status="${v.status}"><td>${escapeHtml(v.name)}</td><td class="voice-status">${v.status}</td>
     <td class="voice-detail"></td><td class="voice-preview"></td>
     <td>${v.status === "ready" ? `<button type="button" class="voice-use">sing with it</button>` : ""}
     <button type="button" class="voice-delete">delete</button></td></tr>`).join("");
  for (const row of body.querySelectorAll("tr")) {
    row.querySelector(".voice-delete").addEventListener("click", () => deleteVoice(row.dataset.id));
    const use = row.querySelector(".voice-use");
    if (use) use.addEventListener("click", () => { $("voice").value = row.dataset.id; $("voice").focus(); });
    showVoice(row);
  }
  voices.ready = items.filter((v) => v.status === "ready");
  for (const select of document.querySelectorAll("select[data-voices]")) addProfileOptions(select);
  clearTimeout(voices.polling);
  if (items.some((v) => !["ready", "failed", "cancelled"].includes(v.status))) voices.polling = setTimeout(loadVoices, 1000);
}

async function showVoice(row) {
  const voice = await (await api(`${VOICES_API}/${row.dataset.id}`)).json();
  const detail = row.querySelector(".voice-detail");
  if (voice.profile) {
    const p = voice.profile;
    detail.textContent = `${Math.round(p.f0_median_hz)} Hz median, formants ${p.formants_hz.map(Math.round).join("/")} Hz`
      + (p.vibrato_rate_hz ? `, vibrato ${p.vibrato_rate_hz.toFixed(1)} Hz` : "");
  } else if (voice.error) {
    detail.innerHTML = `<span class="error">${escapeHtml(voice.error.code)}: ${escapeHtml(voice.error.message || "")}</span>`;
  } else {
    detail.textContent = `${Math.round(voice.progress * 100)}%`;
  }
  if (voice.links.preview) {
    const player = document.createElement("audio");
    player.controls = true;
    player.src = await blobUrl(voice.links.preview);
    row.querySelector(".voice-preview").replaceChildren(player);
  }
}

async function deleteVoice(id) {
  try {
    await api(`${VOICES_API}/${id}`, {method: "DELETE"});
  } catch (error) {
    $("voice-error").textContent = error.message;
  }
  await loadVoices();
}

// The ready profiles in their own <optgroup> of every voice <select>; put back whenever the select's
// options are rebuilt (the studio fills them from the OpenAPI document).
function addProfileOptions(select) {
  const chosen = select.value;
  select.querySelectorAll("optgroup[data-profiles]").forEach((g) => g.remove());
  if (!voices.ready || !voices.ready.length) return;
  const group = document.createElement("optgroup");
  group.label = "your voices";
  group.dataset.profiles = "";
  group.innerHTML = voices.ready.map((v) => `<option value="${v.id}">${escapeHtml(v.name)}</option>`).join("");
  select.append(group);
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

function keepProfileOptions(select) {
  new MutationObserver(() => {
    if (voices.ready && voices.ready.length && !select.querySelector("optgroup[data-profiles]")) addProfileOptions(select);
  }).observe(select, {childList: true});
}

setupVoices();
