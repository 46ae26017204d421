(function () {
  "use strict";
  var app = document.getElementById("app");
  var cfg = app.dataset;
  var MAX_CHARS = parseInt(cfg.maxChars, 10);
  var MAX_STROKES = parseInt(cfg.maxStrokes, 10);
  var W = parseInt(cfg.width, 10);
  var H = parseInt(cfg.height, 10);

  function $(id) { return document.getElementById(id); }
  var consent = $("face-consent");
  var pass = $("face-pass");
  var fail = $("face-fail");
  var buttons = $("face-buttons");
  var needConsent = $("face-need-consent");
  var failed = $("face-failed");
  var faceOk = $("face-ok");
  var sign = $("sign");
  var canvas = $("pad");
  var msg = $("msg");
  var submit = $("submit");
  var ctx = canvas.getContext("2d");
  var passed = false;

  function say(text) { msg.textContent = text; msg.hidden = false; }
  function hush() { msg.hidden = true; msg.textContent = ""; }

  // Step 2: face verification, only after the separate consent (PIPL Art 29).
  function syncFace() {
    var allowed = consent.checked && !passed;
    pass.disabled = !allowed;
    fail.disabled = !allowed;
    needConsent.hidden = consent.checked || passed;
  }
  consent.addEventListener("change", syncFace);
  pass.addEventListener("click", function () {
    if (!consent.checked || passed) { return; }
    passed = true;
    consent.disabled = true;
    buttons.hidden = true;
    failed.hidden = true;
    faceOk.hidden = false;
    syncFace();
    sign.hidden = false;
    resize();
    sign.scrollIntoView({ block: "start" });
  });
  fail.addEventListener("click", function () {
    if (!consent.checked || passed) { return; }
    buttons.hidden = true;
    failed.hidden = false;
  });
  $("face-retry").addEventListener("click", function () {
    failed.hidden = true;
    buttons.hidden = false;
    syncFace();
    pass.focus();
  });
  syncFace();

  // Step 3: signature pad. Strokes are kept in a W x H box as integer SVG path data.
  var strokes = [];
  var path = "";
  var stroke = null;
  var active = null;
  var full = false;

  function setup() {
    ctx.setTransform(canvas.width / W, 0, 0, canvas.height / H, 0, 0);
    ctx.lineWidth = 4;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
  }
  function drawStroke(s) {
    ctx.beginPath();
    ctx.moveTo(s[0][0], s[0][1]);
    for (var i = 1; i < s.length; i++) { ctx.lineTo(s[i][0], s[i][1]); }
    if (s.length === 1) { ctx.lineTo(s[0][0] + 0.01, s[0][1]); }
    ctx.stroke();
  }
  function redraw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    setup();
    strokes.forEach(drawStroke);
  }
  function resize() {
    var r = canvas.getBoundingClientRect();
    if (!r.width) { return; }
    var d = window.devicePixelRatio || 1;
    canvas.width = Math.round(r.width * d);
    canvas.height = Math.round(r.height * d);
    redraw();
  }
  window.addEventListener("resize", resize);

  function at(e) {
    var r = canvas.getBoundingClientRect();
    var x = Math.round(((e.clientX - r.left) * W) / r.width);
    var y = Math.round(((e.clientY - r.top) * H) / r.height);
    return [Math.min(W, Math.max(0, x)), Math.min(H, Math.max(0, y))];
  }
  function piece(cmd, p) { return cmd + " " + p[0] + " " + p[1]; }
  function tooLong() {
    full = true;
    say("签名过长，请清除后重新签名。");
  }

  function start(e) {
    if (!passed || active !== null) { return; }
    if (e.pointerType === "mouse" && e.button !== 0) { return; }
    e.preventDefault();
    if (full) { tooLong(); return; }
    if (strokes.length >= MAX_STROKES) {
      say("笔画过多（最多" + MAX_STROKES + "笔），请清除后重新签名。");
      return;
    }
    var p = at(e);
    var head = (path ? " " : "") + piece("M", p);
    // Keep room for the " L x y" that closes a single-point stroke.
    if (path.length + head.length + piece(" L", p).length > MAX_CHARS) { tooLong(); return; }
    hush();
    path += head;
    stroke = [p];
    strokes.push(stroke);
    active = e.pointerId;
    try { canvas.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
    drawStroke(stroke);
  }
  function add(e) {
    var p = at(e);
    var last = stroke[stroke.length - 1];
    var dx = p[0] - last[0];
    var dy = p[1] - last[1];
    if (dx * dx + dy * dy < 4) { return; }
    var next = " " + piece("L", p);
    if (path.length + next.length > MAX_CHARS) { end(e); tooLong(); return; }
    path += next;
    stroke.push(p);
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
  }
  function move(e) {
    if (e.pointerId !== active || stroke === null) { return; }
    e.preventDefault();
    var list = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    if (!list.length) { list = [e]; }
    for (var i = 0; i < list.length && stroke !== null; i++) { add(list[i]); }
  }
  function end(e) {
    if (e.pointerId !== active) { return; }
    if (stroke !== null && stroke.length === 1) { path += " " + piece("L", stroke[0]); }
    stroke = null;
    active = null;
  }
  canvas.addEventListener("pointerdown", start);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  $("pad-clear").addEventListener("click", function () {
    strokes = [];
    path = "";
    stroke = null;
    active = null;
    full = false;
    hush();
    redraw();
  });

  // Step 4: submit as JSON to the same origin; the server's Chinese message on refusal.
  function problem(body, status) {
    if (body && Array.isArray(body.detail)) {
      var texts = body.detail.map(function (d) { return d && d.message; }).filter(Boolean);
      if (texts.length) { return texts.join("；"); }
    }
    if (body && typeof body.detail === "string" && /[\u4e00-\u9fff]/.test(body.detail)) {
      return body.detail;
    }
    return "提交失败（" + status + "），请稍后重试或联系窗口工作人员。";
  }
  var busy = false;
  function idle() { busy = false; submit.disabled = false; submit.textContent = "提交"; }
  submit.addEventListener("click", function () {
    if (busy) { return; }
    hush();
    if (!passed) { say("请先完成人脸核验"); return; }
    if (!strokes.length || !path) { say("请先签名"); return; }
    busy = true;
    submit.disabled = true;
    submit.textContent = "提交中…";
    fetch(cfg.postUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        nonce: cfg.nonce,
        face_consent: true,
        face_result: "pass",
        signature_svg_path: path
      }),
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error"
    }).then(function (r) {
      if (r.ok) {
        $("flow").hidden = true;
        $("done").hidden = false;
        window.scrollTo(0, 0);
        return;
      }
      return r.json().catch(function () { return null; }).then(function (body) {
        say(problem(body, r.status));
        idle();
      });
    }).catch(function () {
      say("网络连接失败，请检查网络后重试。");
      idle();
    });
  });
})();
