// livecut preview page: charts (uPlot) and the source player. Data comes from the
// application/json block; no text from it is ever written as HTML (textContent and
// uPlot's own labels only).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("livecut-data").textContent);
  var video = document.getElementById("source");
  var statusLine = document.getElementById("source-status");
  var stopAt = null;

  function fmt(s) {
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, x = s % 60;
    var mm = h ? h + ":" + String(m).padStart(2, "0") : String(m);
    return mm + ":" + String(x).padStart(2, "0");
  }

  function say(text) {
    statusLine.textContent = text;
  }

  // Stop at the end of a highlight: every frame where the browser tells us, else timeupdate.
  function checkStop() {
    if (stopAt !== null && video.currentTime >= stopAt) {
      video.pause();
      say("Paused at the end of the span (" + fmt(stopAt) + ").");
      stopAt = null;
    }
  }
  function watchFrames() {
    if (stopAt === null || !video.requestVideoFrameCallback) return;
    video.requestVideoFrameCallback(function () {
      checkStop();
      watchFrames();
    });
  }
  video.addEventListener("timeupdate", checkStop);
  video.addEventListener("error", function () {
    var e = video.error;
    say("The source recording cannot be played here" + (e && e.message ? " (" + e.message + ")" : "") + ".");
  });

  // Play the source recording from `start` (seconds), pausing at `end` (null: play on).
  function playSource(start, end, what) {
    stopAt = end;
    video.currentTime = start; // before the metadata is in, this becomes the start position
    say("Source " + what + ": " + fmt(start) + (end !== null ? "–" + fmt(end) : "") + ".");
    var p = video.play();
    if (p && p.then) {
      p.then(watchFrames, function (err) {
        say("Source " + what + ": at " + fmt(start) + ", but the browser could not play it (" + err.name + ").");
      });
    }
    video.scrollIntoView({ block: "nearest" });
  }

  document.querySelectorAll("button.play-source").forEach(function (b) {
    b.addEventListener("click", function () {
      playSource(Number(b.dataset.start), Number(b.dataset.end), "highlight #" + b.dataset.rank);
    });
  });
  document.querySelectorAll("button.seek").forEach(function (b) {
    b.addEventListener("click", function () {
      playSource(Number(b.dataset.start), null, b.dataset.what || "anomaly");
    });
  });

  // ---- charts -------------------------------------------------------------------------
  var COLORS = {
    loudness: "#e4572e", motion: "#4c9be8", host_motion: "#1f5fa8", audio_events: "#f3a712",
    screen_text: "#8e6cbd", comments: "#29a36a", orders: "#c0397a"
  };
  var PALETTE = ["#29a36a", "#c0397a", "#4c9be8", "#e4572e", "#f3a712", "#8e6cbd", "#555555"];
  // Opaque light versions for stacked fills (stacked areas must not blend).
  function light(hex) {
    var n = parseInt(hex.slice(1), 16), r = n >> 16, g = (n >> 8) & 255, b = n & 255;
    var mix = function (c) { return Math.round(c + (255 - c) * 0.45); };
    return "rgb(" + mix(r) + "," + mix(g) + "," + mix(b) + ")";
  }

  var container = document.getElementById("charts");
  var plots = [];
  var syncing = false;

  function shade(u, spans, color, labelColor) {
    var ctx = u.ctx, bb = u.bbox, dpr = window.devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(bb.left, bb.top, bb.width, bb.height);
    ctx.clip();
    spans.forEach(function (s) {
      var x0 = u.valToPos(s.start_s, "x", true), x1 = u.valToPos(s.end_s, "x", true);
      ctx.fillStyle = color;
      ctx.fillRect(x0, bb.top, Math.max(dpr, x1 - x0), bb.height);
      if (labelColor && s.label) {
        ctx.fillStyle = labelColor;
        ctx.font = Math.round(11 * dpr) + "px system-ui, sans-serif";
        ctx.fillText(s.label, x0 + 3 * dpr, bb.top + 12 * dpr);
      }
    });
    ctx.restore();
  }

  function makePlot(title, unit, series, values, extraShade, hasRight) {
    var div = document.createElement("div");
    div.className = "chart";
    container.appendChild(div);
    var downX = null;
    var axes = [
      { values: function (u, vals) { return vals.map(fmt); } },
      { label: unit, size: 56 }
    ];
    var scales = { x: { time: false } };
    if (hasRight) {
      axes.push({ scale: "y2", side: 1, size: 56, grid: { show: false } });
      scales.y2 = {};
    } else {
      // An empty right-hand axis of the same width keeps every chart's time axis aligned.
      axes.push({
        scale: "y", side: 1, size: 56, grid: { show: false }, ticks: { show: false },
        values: function (u, vals) { return vals.map(function () { return ""; }); }
      });
    }
    var opts = {
      title: title,
      width: Math.max(320, container.clientWidth),
      height: 170,
      scales: scales,
      axes: axes,
      legend: { live: true },
      cursor: { sync: { key: "livecut" }, drag: { x: true, y: false } },
      series: [{ label: "time", value: function (u, v) { return v == null ? "--" : fmt(v); } }].concat(series),
      hooks: {
        drawClear: [function (u) {
          shade(u, data.highlights, "rgba(41,163,106,0.13)", "#1d7a4f");
          shade(u, data.anomalies, "rgba(220,50,47,0.16)", null);
          if (extraShade.length) shade(u, extraShade, "rgba(120,120,120,0.28)", "#444");
        }],
        setScale: [function (u, key) {
          if (key !== "x" || syncing) return;
          syncing = true;
          var min = u.scales.x.min, max = u.scales.x.max;
          plots.forEach(function (o) { if (o !== u) o.setScale("x", { min: min, max: max }); });
          syncing = false;
        }],
        ready: [function (u) {
          u.over.addEventListener("mousedown", function (e) { downX = e.clientX; });
          u.over.addEventListener("click", function (e) {
            if (downX !== null && Math.abs(e.clientX - downX) > 3) return; // a zoom drag
            var t = u.posToVal(e.offsetX, "x");
            if (isFinite(t)) playSource(Math.max(0, t), null, "timeline");
          });
        }]
      }
    };
    var u = new uPlot(opts, [data.t].concat(values), div);
    plots.push(u);
    return u;
  }

  // The excitement curve: each signal's contribution stacked (cumulative sums, drawn from
  // the top of the stack down so each fill covers the one above it only where it is higher).
  if (data.curve) {
    var parts = data.curve.parts;
    var cum = [], running = data.t.map(function () { return 0; });
    parts.forEach(function (p) {
      running = running.map(function (r, i) { return r + (p.values[i] || 0); });
      cum.push(running);
    });
    var series = [], values = [];
    for (var k = parts.length - 1; k >= 0; k--) {
      (function (k) {
        var color = COLORS[parts[k].label] || PALETTE[k % PALETTE.length];
        series.push({
          label: parts[k].label,
          stroke: color,
          fill: light(color),
          width: 1,
          value: function (u, v, si, i) {
            var raw = i == null ? null : parts[k].values[i];
            return raw == null ? "--" : raw.toFixed(3);
          }
        });
        values.push(cum[k]);
      })(k);
    }
    series.push({ label: "score", stroke: "#111", width: 1.5, value: function (u, v) { return v == null ? "--" : v.toFixed(3); } });
    values.push(data.curve.score);
    makePlot("Excitement (stacked contributions)", "score", series, values, [], false);
  }

  data.charts.forEach(function (c) {
    var series = c.series.map(function (s, i) {
      return {
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        width: 1,
        scale: s.right ? "y2" : "y",
        value: function (u, v) { return v == null ? "--" : String(v); }
      };
    });
    var hasRight = c.series.some(function (s) { return s.right; });
    makePlot(c.title, c.unit, series, c.series.map(function (s) { return s.values; }), c.shade, hasRight);
  });

  window.addEventListener("resize", function () {
    var w = Math.max(320, container.clientWidth);
    plots.forEach(function (u) { u.setSize({ width: w, height: u.height }); });
  });

  document.body.dataset.ready = String(plots.length);
})();
