/// The dashboard at `/`: one self-contained page (no build step, no external assets). It refreshes itself every
/// 2 s from `/v1/boilers`; choosing a boiler draws its hourly means with the min-max band (from
/// `/v1/boilers/{id}/snapshots`) and its recent readings (as the page sees them arrive). With an API token, open
/// the page as `/#token=...`; the token stays in the browser's local storage. `/#boiler=ID` opens with that boiler chosen.
let dashboardHTML = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>BoilerPipeline</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
#status { color: #666; margin-bottom: 1em; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: .3em .7em; border-bottom: 1px solid #e3e3e3; text-align: right; }
th { background: #f0f0f0; position: sticky; top: 0; }
td:first-child, th:first-child { text-align: left; }
tr.sel { background: #e8f0ff; }
tr:hover { background: #f3f7ff; cursor: pointer; }
.untrusted { color: #b00; }
.trusted { color: #070; }
.low { color: #b60; }
#charts { display: flex; flex-wrap: wrap; gap: 1.5em; margin-bottom: 1.5em; }
.chart { background: #fff; border: 1px solid #ddd; padding: .5em; }
.chart h2 { font-size: 1em; margin: 0 0 .3em; }
svg text { font-size: 11px; fill: #555; }
</style>
</head>
<body>
<h1>BoilerPipeline fleet</h1>
<div id="status">loading...</div>
<div id="charts">
<div class="chart"><h2 id="hourlyTitle">hourly mean (choose a boiler)</h2><svg id="hourly" width="560" height="260"></svg></div>
<div class="chart"><h2 id="recentTitle">recent readings</h2><svg id="recent" width="560" height="260"></svg></div>
</div>
<table id="fleet">
<thead><tr><th>boiler</th><th>water now °C</th><th>reading age</th><th>last hourly mean °C</th><th>coverage</th><th>last decision</th><th>room setpoint °C</th></tr></thead>
<tbody></tbody>
</table>
<script>
"use strict";
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get("token")) { localStorage.setItem("boilerToken", hash.get("token")); history.replaceState(null, "", location.pathname); }
const token = localStorage.getItem("boilerToken");
let selected = hash.get("boiler");
const recent = {};
function api(path) {
  const headers = token ? { "Authorization": "Bearer " + token } : {};
  return fetch(path, { headers }).then(r => r.ok ? r.json() : r.json().then(e => { throw new Error(e.error ? e.error.message : r.status); }));
}
function fmt(v, d) { return v === undefined || v === null ? "–" : Number(v).toFixed(d); }
function age(ms) { if (ms === undefined) return "–"; const s = (Date.now() - ms) / 1000; return s < 120 ? s.toFixed(0) + " s" : s < 7200 ? (s / 60).toFixed(0) + " min" : (s / 3600).toFixed(1) + " h"; }
function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; }
function refresh() {
  api("/v1/boilers").then(data => {
    const body = document.querySelector("#fleet tbody");
    body.textContent = "";
    for (const b of data.boilers) {
      const row = body.insertRow();
      if (b.boiler_id === selected) row.className = "sel";
      row.onclick = () => { selected = b.boiler_id; refresh(); loadHourly(); };
      const r = b.latest_reading, s = b.last_snapshot, d = b.last_decision;
      cell(row, b.boiler_id);
      cell(row, r ? fmt(r.water_c, 2) : "–");
      cell(row, r ? age(r.ts_ms) : "–");
      cell(row, s ? fmt(s.mean_c, 2) : "–");
      cell(row, s ? (100 * s.coverage).toFixed(1) + " %" : "–", s && s.coverage < 0.8 ? "low" : "");
      cell(row, d ? (d.trusted ? d.reason : "untrusted: " + d.reason) : "–", d ? (d.trusted ? "trusted" : "untrusted") : "");
      cell(row, d ? fmt(d.room_setpoint_c, 1) : "–");
      if (r) {
        const list = recent[b.boiler_id] || (recent[b.boiler_id] = []);
        if (!list.length || list[list.length - 1].t !== r.ts_ms) list.push({ t: r.ts_ms, v: r.water_c });
        if (list.length > 300) list.shift();
      }
    }
    document.getElementById("status").textContent = data.count + " boilers · updated " + new Date().toLocaleTimeString();
    if (selected) drawRecent();
  }).catch(e => { document.getElementById("status").textContent = "error: " + e.message; });
}
function scale(values, lo, hi) { let a = Math.min(...values), b = Math.max(...values); if (a === b) { a -= 1; b += 1; } return v => hi - (v - a) / (b - a) * (hi - lo); }
function axis(svg, min, max, y) {
  for (const [v, label] of [[min, min], [max, max]]) {
    const t = document.createElementNS("http://www.w3.org/2000/svg", "text");
    t.setAttribute("x", 2); t.setAttribute("y", y(v) + 4); t.textContent = Number(label).toFixed(1); svg.appendChild(t);
  }
}
function path(points) { return points.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1)).join(""); }
function draw(svg, series, band) {
  svg.textContent = "";
  const W = svg.width.baseVal.value, H = svg.height.baseVal.value, L = 40, R = W - 10, T = 10, B = H - 20;
  if (!series.length) return;
  const ts = series.map(p => p.t), all = series.map(p => p.v).concat(band ? band.flatMap(p => [p.lo, p.hi]) : []);
  const t0 = Math.min(...ts), t1 = Math.max(...ts) || t0 + 1;
  const x = t => L + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (R - L);
  const y = scale(all, T, B);
  const ns = "http://www.w3.org/2000/svg";
  if (band && band.length) {
    const area = document.createElementNS(ns, "path");
    area.setAttribute("d", path(band.map(p => [x(p.t), y(p.hi)]).concat(band.slice().reverse().map(p => [x(p.t), y(p.lo)]))) + "Z");
    area.setAttribute("fill", "#cfe0ff"); svg.appendChild(area);
  }
  const line = document.createElementNS(ns, "path");
  line.setAttribute("d", path(series.map(p => [x(p.t), y(p.v)])));
  line.setAttribute("fill", "none"); line.setAttribute("stroke", "#2456c8"); line.setAttribute("stroke-width", "2"); svg.appendChild(line);
  axis(svg, Math.min(...all), Math.max(...all), y);
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", L); label.setAttribute("y", H - 4);
  label.textContent = new Date(t0).toISOString().slice(0, 16).replace("T", " ") + " → " + new Date(t1).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  svg.appendChild(label);
}
function loadHourly() {
  if (!selected) return;
  document.getElementById("hourlyTitle").textContent = "hourly mean of " + selected + " (band: min–max)";
  api("/v1/boilers/" + encodeURIComponent(selected) + "/snapshots?from=0").then(data => {
    const rows = data.snapshots.filter(s => s.mean_c !== undefined);
    draw(document.getElementById("hourly"), rows.map(s => ({ t: s.hour_start_ms, v: s.mean_c })), rows.map(s => ({ t: s.hour_start_ms, lo: s.min_c, hi: s.max_c })));
  }).catch(() => {});
}
function drawRecent() {
  document.getElementById("recentTitle").textContent = "recent readings of " + selected;
  draw(document.getElementById("recent"), recent[selected] || [], null);
}
refresh();
loadHourly();
setInterval(refresh, 2000);
setInterval(loadHourly, 10000);
</script>
</body>
</html>
"""#
