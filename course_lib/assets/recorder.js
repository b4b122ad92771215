// The browser half of course_lib.widgets.record: microphone (getUserMedia + Web Audio)
// or an uploaded file, decoded to float32 PCM here and sent to the Python kernel in one
// custom message: content {type: "audio", sr, n, channels, source, name}, buffers
// [Float32Array of channels * n samples, channel after channel]. Nothing is stored in the
// widget's state, so saving the notebook does not save the recording.

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function dbfs(x) {
  return x > 0 ? 20 * Math.log10(x) : -Infinity;
}

function send(model, channels, sr, source, name) {
  const n = channels.length ? channels[0].length : 0;
  const flat = new Float32Array(channels.length * n);
  channels.forEach((c, k) => flat.set(c, k * n));
  model.send({type: "audio", sr: sr, n: n, channels: channels.length, source: source, name: name},
             undefined, [flat.buffer]);
}

function render({model, el: root}) {
  const box = el("div", "course-recorder");
  const row = el("div", "course-recorder-row");
  const button = el("button", "course-recorder-record", "");
  const meter = el("div", "course-recorder-meter");
  const bar = el("div", "course-recorder-bar");
  meter.appendChild(bar);
  meter.title = "input level (peak, dBFS)";
  const status = el("div", "course-recorder-status", "");
  const upload = el("label", "course-recorder-upload", "or upload a recording: ");
  const file = el("input");
  file.type = "file";
  file.accept = "audio/*,.wav,.flac,.ogg,.mp3,.m4a,.webm";
  upload.appendChild(file);
  const privacy = el("div", "course-recorder-privacy", model.get("privacy"));
  row.append(button, meter);
  box.append(row, status, upload, privacy);
  root.appendChild(box);

  const seconds = () => model.get("seconds");
  const idle = () => { button.disabled = false; button.textContent = `\u25CF Record ${seconds()} s`; };
  const say = (text, kind) => { status.textContent = text; status.dataset.kind = kind || ""; };
  const level = (peak) => {
    const db = Math.max(-60, dbfs(peak));
    bar.style.width = `${Math.round(100 * (db + 60) / 60)}%`;
    bar.dataset.clip = peak >= 0.999 ? "1" : "";
  };
  idle();
  say(model.get("status"), model.get("status_kind"));
  model.on("change:status", () => say(model.get("status"), model.get("status_kind")));

  const haveMic = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  if (!haveMic) {
    button.disabled = true;
    say("This browser gives the page no microphone (it needs https or localhost): upload a recording instead.",
        "error");
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    let stream, ctx;
    try {
      // raw input: no echo cancellation, noise suppression or automatic gain (they change the signal)
      stream = await navigator.mediaDevices.getUserMedia({audio: {
        echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1}});
    } catch (err) {
      idle();
      say(`No microphone: ${err.name} (${err.message}). Allow the microphone for this page, or upload a file.`,
          "error");
      model.send({type: "error", name: err.name, message: String(err.message)});
      return;
    }
    try {
      ctx = new AudioContext();
      const sr = ctx.sampleRate;
      const want = Math.round(seconds() * sr);
      const source = ctx.createMediaStreamSource(stream);
      // ScriptProcessorNode: deprecated but in every browser, and needs no module file
      const node = ctx.createScriptProcessor(4096, 1, 1);
      const chunks = [];
      let got = 0;
      const done = new Promise((resolve) => {
        node.onaudioprocess = (ev) => {
          if (got >= want) return;
          const x = ev.inputBuffer.getChannelData(0);
          const take = x.slice(0, Math.min(x.length, want - got));
          chunks.push(take);
          got += take.length;
          let peak = 0;
          for (let i = 0; i < take.length; i++) peak = Math.max(peak, Math.abs(take[i]));
          level(peak);
          button.textContent = `\u25A0 recording ${(got / sr).toFixed(1)} / ${seconds()} s`;
          if (got >= want) resolve();
        };
      });
      source.connect(node);
      node.connect(ctx.destination);  // a processor that is not connected never runs
      say("Recording: say your word now.", "busy");
      await done;
      node.disconnect();
      source.disconnect();
      const y = new Float32Array(got);
      let at = 0;
      for (const c of chunks) { y.set(c, at); at += c.length; }
      say(`Sending ${(got / sr).toFixed(2)} s at ${sr} Hz to Python ...`, "busy");
      send(model, [y], sr, "microphone", "");
      // Python answers by setting the status; silence means no kernel is listening
      setTimeout(() => {
        if (status.dataset.kind === "busy") {
          say("Python did not answer: is the kernel running? Run the cell again (or restart the kernel).", "error");
        }
      }, 15000);
    } catch (err) {
      say(`Recording failed: ${err.name}: ${err.message}`, "error");
      model.send({type: "error", name: err.name, message: String(err.message)});
    } finally {
      stream.getTracks().forEach((t) => t.stop());
      if (ctx) ctx.close();
      level(0);
      idle();
    }
  });

  file.addEventListener("change", async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    say(`Decoding ${f.name} ...`, "busy");
    try {
      const data = await f.arrayBuffer();
      const ctx = new AudioContext();
      // decodeAudioData resamples to the context's rate; every format the browser plays works
      const buffer = await ctx.decodeAudioData(data);
      ctx.close();
      const channels = [];
      for (let k = 0; k < buffer.numberOfChannels; k++) channels.push(buffer.getChannelData(k));
      send(model, channels, buffer.sampleRate, "upload", f.name);
    } catch (err) {
      say(`Could not decode ${f.name}: ${err.name || ""} ${err.message || err}. Try a WAV file.`, "error");
      model.send({type: "error", name: "DecodeError", message: `${f.name}: ${err.message || err}`});
    }
    file.value = "";
  });
}

export default {render};
